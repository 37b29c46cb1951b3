"""The project as an Airflow provider: listed by Airflow, connection forms served, Test button working.

The provider is found through the ``apache_airflow_provider`` entry point. The
shared editable install may predate it, so the subprocesses get a copy of the
entry points made from ``pyproject.toml`` first on their path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from confluence_provisioning.provider import HOOKS, PACKAGE_NAME, get_provider_info, hook_class
from sandbox.atlassian_cloud import CloudEmulatorServer
from sandbox.confluence import EmulatorServer
from sandbox.openldap import OpenLdapSandbox
from tests.cloud_emulator.conftest import new_user
from tests.dag.conftest import confluence_connection, ldap_connection
from tests.fixtures.airflow import REPO

AIRFLOW = Path(sys.executable).with_name("airflow")


@pytest.fixture(scope="module")
def provider_env(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> dict[str, str]:
    """The environment of an Airflow process that sees this checkout as an installed provider."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    folder = tmp_path_factory.mktemp("entry_points")
    dist = folder / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    lines = [
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items())
        for group, points in project["entry-points"].items()
    ]
    (dist / "entry_points.txt").write_text("".join(lines), encoding="utf-8")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPO), str(REPO / "plugins")]),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    }


def test_provider_info_follows_airflows_schema_and_names_every_hook() -> None:
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    types = [entry["connection-type"] for entry in info["connection-types"]]
    assert types[:3] == ["ldap", "confluence", "okta"]
    assert len(set(types)) == len(types) == len(HOOKS)
    for path in HOOKS:
        hook = hook_class(path)
        # a hook's own Test, not an inherited one that proves less
        assert "test_connection" in vars(hook), path
        assert hook.conn_name_attr and hook.default_conn_name, path


def test_each_hook_module_imports_as_a_process_first_airflow_import(provider_env: dict[str, str]) -> None:
    """Airflow discovers providers while it first imports itself: a module of ours that starts that
    import (a hook, a source's reader, as ``python -m bench.okta`` does) must not meet itself half
    imported through provider discovery (a circular import)."""
    readers = [f"confluence_provisioning.sources.{kind}.reading" for kind in ("okta", "entra")]
    modules = [path.rsplit(".", 1)[0] for path in HOOKS] + readers
    probe = "from airflow.configuration import conf; conf.getboolean('core', 'unit_test_mode')"
    children = {
        module: subprocess.Popen(
            [sys.executable, "-c", f"import {module}; {probe}"],
            env=provider_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for module in modules
    }
    failed = {module: child.communicate(timeout=120)[0][-2000:] for module, child in children.items()}
    assert {module: out for module, out in failed.items() if children[module].returncode} == {}


def test_airflow_lists_the_provider_and_its_hooks(provider_env: dict[str, str]) -> None:
    listed = _airflow_json(provider_env, "providers", "list")
    assert PACKAGE_NAME in {row["package_name"] for row in listed}
    hooks = {row["connection_type"]: row for row in _airflow_json(provider_env, "providers", "hooks")}
    assert hooks["ldap"]["class"] == "confluence_provisioning.sources.ldap.hook.LdapHook"
    assert hooks["ldap"]["conn_id_attribute_name"] == "ldap_conn_id"
    assert hooks["confluence"]["hook_name"] == "Confluence Data Center"
    assert hooks["atlassian_scim"]["class"] == (
        "confluence_provisioning.targets.atlassian_cloud.hook.AtlassianScimHook"
    )


def test_the_ui_gets_the_forms_and_the_rest_api_tests_connections(
    provider_env: dict[str, str],
    ldap_example: OpenLdapSandbox,
    confluence: EmulatorServer,
    cloud: CloudEmulatorServer,
) -> None:
    ldap = json.loads(ldap_connection(ldap_example))
    conf = json.loads(confluence_connection(confluence))
    confluence.directory.create_user("reader", "Reader", "reader@example.com", "reader-password")
    scim = {
        "conn_type": "atlassian_scim",
        "host": cloud.api_url,
        "password": cloud.config.token,
        # as the form saves it: domains as text, the defaults of the other fields
        "extra": json.dumps(
            {
                "directory_id": cloud.config.directory_id,
                "verified_domains": "example.com",
                "verify": "true",
                "max_in_flight": None,
            }
        ),
    }
    for email in ("alice@example.com", "bob@example.com"):
        created = httpx.post(f"{cloud.base_url}/Users", json=new_user(email), headers=cloud.auth_headers)
        assert created.status_code == 201, created.text
    bodies = [
        {**ldap, "connection_id": "ldap_ok"},
        {**ldap, "connection_id": "ldap_bad", "password": "wrong"},
        {**ldap, "connection_id": "ldap_no_base", "extra": json.dumps({"base_dn": "dc=nowhere,dc=test"})},
        {**conf, "connection_id": "confluence_ok", "conn_type": "confluence"},
        {**conf, "connection_id": "confluence_bad", "conn_type": "confluence", "password": "wrong"},
        {**conf, "connection_id": "confluence_user", "conn_type": "confluence"}
        | {"login": "reader", "password": "reader-password"},
        {**scim, "connection_id": "cloud_ok"},
        {**scim, "connection_id": "cloud_bad", "password": "wrong-key"},
    ]
    for body in bodies:
        body["port"] = body.get("port")
    answer = _probe(provider_env, bodies)

    meta = {row["connection_type"]: row for row in answer["hook_meta"]}
    ldap_form = meta["ldap"]
    assert ldap_form["hook_name"] == "LDAP"
    assert {"base_dn", "start_tls", "ca_cert"} <= {
        name.rsplit("__", 1)[-1] for name in ldap_form["extra_fields"] or {}
    }
    assert ldap_form["standard_fields"]["login"]["title"] == "Bind DN"
    confluence_form = meta["confluence"]
    assert confluence_form["standard_fields"]["host"]["title"] == "Base URL"
    assert "token" in {name.rsplit("__", 1)[-1] for name in confluence_form["extra_fields"] or {}}
    scim_form = meta["atlassian_scim"]
    assert scim_form["standard_fields"]["host"]["title"] == "API base URL"
    assert scim_form["standard_fields"]["password"]["title"] == "Directory API key"
    assert scim_form["standard_fields"]["login"]["hidden"] is True
    assert {"directory_id", "verified_domains"} <= {
        name.rsplit("__", 1)[-1] for name in scim_form["extra_fields"] or {}
    }

    results = dict(zip([body["connection_id"] for body in bodies], answer["tests"], strict=True))
    assert results["ldap_ok"]["status"] is True, results["ldap_ok"]
    assert results["ldap_ok"]["message"].endswith("and read 'dc=example,dc=com'")
    assert results["ldap_bad"]["status"] is False
    assert "check the login and password" in results["ldap_bad"]["message"]
    assert results["ldap_no_base"]["status"] is False
    assert "dc=nowhere,dc=test" in results["ldap_no_base"]["message"]
    assert results["confluence_ok"] | {"http_status": 200} == {
        "http_status": 200,
        "status": True,
        "message": f"authenticated as {confluence.admin_auth[0]}, a member of confluence-administrators",
    }
    assert results["confluence_bad"]["status"] is False
    assert "401" in results["confluence_bad"]["message"] or "password" in results["confluence_bad"]["message"]
    assert results["confluence_user"]["status"] is False
    assert "authenticated as reader, who is in neither" in results["confluence_user"]["message"]
    assert results["cloud_ok"] | {"http_status": 200} == {
        "http_status": 200,
        "status": True,
        "message": f"read the directory {cloud.base_url}: 2 users",
    }
    assert results["cloud_bad"]["status"] is False
    assert "401" in results["cloud_bad"]["message"], results["cloud_bad"]


def _airflow_json(env: dict[str, str], *command: str) -> Any:
    done = subprocess.run(
        [str(AIRFLOW), *command, "-o", "json"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout[done.stdout.index("[") :])


def _probe(env: dict[str, str], bodies: list[dict[str, Any]]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.provider.api_probe"],
        input=json.dumps({"tests": bodies}),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index('{"hook_meta"') :])
