"""What a team deploys: runtime requirements only, the Astro and Helm files naming what the DAG needs.

The checks read the files as the tools would (YAML, requirement lines) and compare them
with what the code itself names: the pool of the DAG file, the connection ids of the
default rules, the connection types this project registers, the packages its modules import.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from confluence_provisioning.pipeline.dag_config import RULES_DIR_VARIABLE
from confluence_provisioning.provider import get_provider_info
from confluence_provisioning.settings import load_settings
from tests.fixtures.airflow import REPO

DAG_FILE = REPO / "dags" / "confluence_provisioning_dag.py"
DEV_TOOLS = {
    "pytest",
    "pytest-timeout",
    "pytest-xdist",
    "hypothesis",
    "ruff",
    "pyinstrument",
    "setuptools",
    "playwright",
    # the emulators and the distributed-run test
    "scim2-server",
    "scim2-tester",
    "apache-airflow-providers-celery",
    "moto",
    "msal",
}
AIRFLOW_DISTRIBUTIONS = ("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk")


def pins(path: Path) -> dict[str, Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    found = [Requirement(line) for line in lines if line and not line.startswith("-")]
    return {requirement.name.lower(): requirement for requirement in found}


def dag_pool() -> str:
    (pool,) = re.findall(r'^POOL = "([^"]+)"$', DAG_FILE.read_text(encoding="utf-8"), re.MULTILINE)
    return pool


def connection_ids() -> set[str]:
    settings = load_settings(REPO / "include" / "mapping_rules" / "default.yaml")
    return {settings.source.connection_id, settings.target.connection_id, settings.run.audit_connection_id}


def third_party_imports() -> set[str]:
    """Top-level modules imported by the DAG and the library that are neither ours nor the stdlib."""
    modules = set()
    for path in [DAG_FILE, *(REPO / "plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"confluence_provisioning", "__future__"}


def test_requirements_hold_what_the_dag_imports_and_no_development_tool() -> None:
    runtime = pins(REPO / "requirements.txt")
    assert DEV_TOOLS.isdisjoint(runtime)
    airflow_closure = _closure(AIRFLOW_DISTRIBUTIONS)
    distributions = packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in third_party_imports()
        if not {name.lower() for name in distributions.get(module, [])} & (set(runtime) | airflow_closure)
    }
    assert missing == {}, "imported, but neither in requirements.txt nor brought by Airflow"
    # the dev file is the runtime file plus the tools, and the Makefile installs it
    dev = (REPO / "requirements-dev.txt").read_text(encoding="utf-8")
    assert "-r requirements.txt" in dev.splitlines()
    assert set(pins(REPO / "requirements-dev.txt")) == DEV_TOOLS
    assert "pip install -q -r requirements-dev.txt -c constraints.txt" in (REPO / "Makefile").read_text()


def test_runtime_pins_meet_airflows_own_requirements() -> None:
    runtime = pins(REPO / "requirements.txt")
    clashes = []
    providers = ("apache-airflow-providers-http", "apache-airflow-providers-standard")
    for distribution in (*AIRFLOW_DISTRIBUTIONS, *providers):
        for line in requires(distribution) or []:
            wanted = Requirement(line)
            if wanted.marker and not wanted.marker.evaluate({"extra": ""}):
                continue
            pinned = runtime.get(wanted.name.lower())
            if pinned is not None:
                (version,) = (spec.version for spec in pinned.specifier)
                if not wanted.specifier.contains(version, prereleases=True):
                    clashes.append(f"{distribution} wants {wanted}, requirements.txt pins {pinned}")
    assert clashes == []


def test_the_image_is_the_official_airflow_image_with_the_runtime_set() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    airflow = pins(REPO / "requirements.txt")["apache-airflow"]
    (version,) = (spec.version for spec in airflow.specifier)
    assert re.search(rf"^FROM apache/airflow:{re.escape(version)}-python3\.11$", dockerfile, re.MULTILINE)
    assert "pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/constraints.txt" in dockerfile
    assert "requirements-dev" not in dockerfile
    assert f"dags/{DAG_FILE.name}" in dockerfile
    assert "packages.txt" in dockerfile and (REPO / "packages.txt").read_text().split() == ["ca-certificates"]


def test_the_astro_settings_name_the_pool_and_every_connection_with_our_types() -> None:
    settings = yaml.safe_load((REPO / "airflow_settings.yaml").read_text(encoding="utf-8"))["airflow"]
    assert [pool["pool_name"] for pool in settings["pools"]] == [dag_pool()]
    connections = {conn["conn_id"]: conn for conn in settings["connections"]}
    assert set(connections) == connection_ids()
    registered = {entry["connection-type"] for entry in get_provider_info()["connection-types"]}
    ours = {connections[conn_id]["conn_type"] for conn_id in ("ldap_default", "confluence_default")}
    assert ours <= registered
    # placeholders, never a secret
    assert {conn.get("conn_password") for conn in connections.values()} == {"CHANGE-ME"}


def test_the_helm_values_take_connections_from_secrets_and_create_the_pool() -> None:
    values = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text(encoding="utf-8"))
    from_secrets = {entry["envName"] for entry in values["secret"]}
    assert {f"AIRFLOW_CONN_{conn_id.upper()}" for conn_id in connection_ids()} <= from_secrets
    assert f"airflow pools set {dag_pool()} " in " ".join(values["migrateDatabaseJob"]["args"])
    env = {entry["name"]: entry["value"] for entry in values["env"]}
    rules_dir = env[f"AIRFLOW_VAR_{RULES_DIR_VARIABLE.upper()}"]
    assert [mount["mountPath"] for mount in values["volumeMounts"]] == [rules_dir]
    rules = yaml.safe_load(values["extraConfigMaps"]["confluence-provisioning-rules"]["data"])["default.yaml"]
    assert yaml.safe_load(rules)["run"]["storage_base"].startswith("s3://")


@pytest.mark.parametrize(
    "readme", sorted((REPO / "sandbox").rglob("README.md")), ids=lambda path: path.parent.name
)
def test_the_sandbox_readmes_point_only_inside_the_repository(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    assert "shared/contracts" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" not in target:
            assert (readme.parent / target).resolve().is_relative_to(REPO), target
            assert (readme.parent / target).exists(), target


def _closure(roots: tuple[str, ...]) -> set[str]:
    """The distributions these bring, transitively (their requirements without extras)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop().lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            lines = requires(name) or []
        except Exception:
            continue
        for line in lines:
            wanted = Requirement(line)
            if not wanted.marker or wanted.marker.evaluate({"extra": ""}):
                todo.append(wanted.name)
    return {name.replace("_", "-") for name in seen}
