"""Whole DAG runs (`dag.test()`) from the Okta emulator into the Data Center and Cloud emulators.

The example directory served by the Okta emulator, synced with include/mapping_rules/okta.yaml,
gives exactly what the same directory in LDAP gives with default.yaml; a deprovisioned user is
disabled, not forgotten; the second run reads only what changed (the full_read param is tested
at the source: tests/sources/okta/test_read_source.py).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from confluence_provisioning.mapping.stage import MappingResult, map_rules
from confluence_provisioning.settings import load_settings
from confluence_provisioning.sources.ldap.ldif import ldif_snapshot
from confluence_provisioning.sources.okta import reading
from confluence_provisioning.sources.okta.auth import ApiToken
from confluence_provisioning.sources.okta.client import OktaClient
from sandbox.confluence import EmulatorServer
from sandbox.okta import OktaServer
from tests.dag.conftest import DAG_ID, DEFAULT_PARAMS, confluence_connection, parse_dag
from tests.dag.test_cloud_runs import VERIFIED, cloud_state
from tests.dag.test_dag_runs import confluence_state, operation_set, operations
from tests.fixtures.airflow import REPO
from tests.fixtures.okta import EXAMPLE_LDIF

RULES = REPO / "include" / "mapping_rules"
OKTA_TO_CLOUD = "okta-cloud.yaml"  # okta.yaml with an atlassian_cloud target


@pytest.fixture(scope="module")
def okta_rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """default.yaml and okta.yaml, with fast retries, no incremental overlap and their own storage."""
    folder = tmp_path_factory.mktemp("okta_rules")
    # the DAG takes its task retries from default.yaml when parsed: fast ones, as tests/dag/conftest's
    default = yaml.safe_load((RULES / "default.yaml").read_text(encoding="utf-8"))
    default["run"] |= {"task_retries": 1, "task_retry_delay_seconds": 0.2}
    (folder / "default.yaml").write_text(yaml.safe_dump(default), encoding="utf-8")
    rules = yaml.safe_load((RULES / "okta.yaml").read_text(encoding="utf-8"))
    rules["source"] |= {"incremental_overlap_seconds": 0, "max_attempts": 2}
    rules["target"]["retry"] = {"max_attempts": 2, "base_delay_seconds": 0.01, "max_delay_seconds": 0.05}
    # unattended: nobody approves the first run against the emulated site
    rules["run"] = {"storage_base": f"file://{folder / 'runs'}", "approval": "never"}
    (folder / "okta.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    rules["target"] = {"kind": "atlassian_cloud", "retry": rules["target"]["retry"]}
    (folder / OKTA_TO_CLOUD).write_text(yaml.safe_dump(rules), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def okta_dag(airflow_db: Path, okta_rules_dir: Path) -> Any:
    return parse_dag(okta_rules_dir)


@pytest.fixture
def okta_site(
    okta_dag: Any,
    okta_example: OktaServer,
    confluence: EmulatorServer,
    okta_rules_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    shutil.rmtree(okta_rules_dir / "runs", ignore_errors=True)  # no incremental state from another test
    connection = {"conn_type": "okta", "host": okta_example.base_url, "password": okta_example.token}
    monkeypatch.setenv("AIRFLOW_CONN_OKTA_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW_CONN_CONFLUENCE_DEFAULT", confluence_connection(confluence))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONFLUENCE_PROVISIONING_AUDIT",
        json.dumps({"conn_type": "sqlite", "host": f"{tmp_path}/audit.db"}),
    )
    time.sleep(1.05)  # the org was loaded this second: the first read's cursor must come after it

    class Site:
        audit_url = f"sqlite:///{tmp_path}/audit.db"

        def run(self, **params: Any) -> Any:
            return okta_dag.test(run_conf={**DEFAULT_PARAMS, "rules_file": "okta.yaml", **params})

        def audit(self) -> Any:
            from confluence_provisioning.audit import AuditStore

            return AuditStore(self.audit_url)

        def record(self, dag_run: Any) -> Any:
            with self.audit() as store:
                return store.find_run(DAG_ID, dag_run.run_id)

    return Site()


def _desired_from_ldap() -> MappingResult:
    """What default.yaml makes of the example directory read from LDAP (its LDIF, without slapd)."""
    settings = load_settings(RULES / "default.yaml")
    return map_rules(ldif_snapshot(EXAMPLE_LDIF, settings.source), settings)


def _desired_from_okta(okta: OktaServer, rules_dir: Path, rules_file: str = "okta.yaml") -> MappingResult:
    settings = load_settings(rules_dir / rules_file)
    with OktaClient(okta.base_url, ApiToken(okta.token)) as client:
        state, _ = reading.read_full(client, settings.source)
    return map_rules(reading.snapshot(state, settings.source), settings)


def _users(result: MappingResult) -> dict[str, tuple[str, str, bool]]:
    return {row.username: (row.display_name, row.email, row.active) for row in result.users.itertuples()}


def test_the_example_directory_syncs_from_okta_as_from_ldap_and_a_leaver_is_disabled(
    okta_site: Any, okta_example: OktaServer, confluence: EmulatorServer, okta_rules_dir: Path
) -> None:
    desired = _desired_from_okta(okta_example, okta_rules_dir)
    from_ldap = _desired_from_ldap()
    assert _users(desired) == _users(from_ldap)  # the same 187 users, names, emails, statuses
    assert set(desired.groups["name"]) == set(from_ldap.groups["name"])
    memberships = set(zip(desired.memberships["group"], desired.memberships["username"], strict=True))
    assert memberships == set(
        zip(from_ldap.memberships["group"], from_ldap.memberships["username"], strict=True)
    )
    before = confluence_state(confluence)

    first = okta_site.run()

    assert first.state == "success"
    after = confluence_state(confluence)
    active = {name: value for name, value in _users(desired).items() if value[2]}
    assert {name: value for name, value in after["users"].items() if name != "admin"} == active
    assert len(active) == 183  # 187 in scope, of whom 4 locked (SUSPENDED in Okta): never created
    assert after["memberships"] - before["memberships"] == {
        (group, user) for group, user in memberships if user in active
    }

    # a leaver (deactivated in Okta), a new hire not yet activated, a moved user
    directory = okta_example.directory
    directory.set_status("afischer@example.com", "DEPROVISIONED")
    directory.create_user({"login": "newbie@example.com", "email": "newbie@example.com"}, "STAGED")
    directory.add_member("finance", "ceo@example.com")
    okta_example.emulator.counters.clear()

    second = okta_site.run()

    assert second.state == "success"
    state = confluence_state(confluence)
    assert state["users"]["afischer"] == (*after["users"]["afischer"][:2], False)  # disabled, still there
    assert "newbie" not in state["users"]
    assert ("finance", "ceo") in state["memberships"]
    done = operation_set(operations(okta_site, second))
    assert {("disable_user", "afischer", None), ("add_membership", "ceo", "finance")} <= done
    assert not {op for op in done if op[0] in ("create_user", "delete_user")}
    # only what changed was read: one page of changed users, the groups, finance's members
    assert okta_example.emulator.counters.as_json()["by_route"] == {
        "GET /api/v1/users": 1,
        "GET /api/v1/groups": 1,
        "GET /api/v1/groups/{groupId}/users": 1,
    }


def test_the_okta_directory_syncs_into_cloud_with_the_users_and_groups_it_gives_data_center(
    okta_site: Any, okta_example: OktaServer, okta_rules_dir: Path, cloud_server: Any, monkeypatch: Any
) -> None:
    cloud = cloud_server(verified_domains=VERIFIED)
    connection = {
        "conn_type": "http",
        "host": cloud.api_url,
        "password": cloud.config.token,
        "extra": {"directory_id": cloud.config.directory_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ATLASSIAN_SCIM_DEFAULT", json.dumps(connection))

    run = okta_site.run(rules_file=OKTA_TO_CLOUD)

    assert run.state == "success"
    # what the rules make of the Okta read for Cloud (users named by email), active users only
    desired = _desired_from_okta(okta_example, okta_rules_dir, OKTA_TO_CLOUD)
    active = {row.username: row.display_name for row in desired.users.itertuples() if row.active}
    on_cloud = cloud_state(cloud)
    assert on_cloud["users"] == {email: (display, True) for email, display in active.items()}
    assert all("@" in email for email in active)
    wanted = set(zip(desired.memberships["group"], desired.memberships["username"], strict=True))
    assert on_cloud["memberships"] == {(group, user) for group, user in wanted if user in active}
    assert all(user["externalId"] for user in cloud.state["Users"])  # Okta's user ids


def test_okta_down_fails_the_run_before_any_write(
    okta_site: Any, okta_example: OktaServer, confluence
) -> None:
    okta_example.emulator.set_faults([{"path": "/api/v1/*", "error_rate": 1, "statuses": [503]}])
    confluence.emulator.counters.clear()

    run = okta_site.run()

    assert run.state == "failed"
    by_method = confluence.emulator.counters.as_json()["by_method"]
    assert set(by_method) <= {"GET"}
    record = okta_site.record(run)
    assert record.status == "failed" and "503 E0000009 Internal Server Error, 2 times" in record.error
