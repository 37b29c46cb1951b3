"""The DAG against the sandbox: parsed once per session, each run with ``dag.test()`` in this process.

Connections come from ``AIRFLOW_CONN_*`` JSON variables, as on a real worker;
each test gets a fresh Confluence emulator site and its own audit database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from confluence_provisioning.audit import AuditStore, RunRecord
from sandbox.confluence import EmulatorServer
from sandbox.openldap import OpenLdapSandbox
from tests.fixtures.airflow import REPO

DAG_ID = "confluence_provisioning"
RULES_DIR_VARIABLE = "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_RULES_DIR"
DEFAULT_PARAMS = {
    "dry_run": False,
    "rules_file": "default.yaml",
    "allow_over_limits": False,
    "full_read": False,
    "only_users": [],
}


def ldap_connection(sandbox: OpenLdapSandbox) -> str:
    """The sandbox as AIRFLOW_CONN_LDAP_DEFAULT JSON, bound as its read-only account."""
    endpoint = sandbox.endpoint
    where = urlsplit(endpoint.uri)
    return json.dumps(
        {
            "conn_type": "ldap",
            "host": where.hostname,
            "port": where.port,
            "login": endpoint.reader_dn,
            "password": endpoint.reader_password,
        }
    )


def confluence_connection(server: EmulatorServer) -> str:
    login, password = server.admin_auth
    return json.dumps(
        {"conn_type": "confluence", "host": server.base_url, "login": login, "password": password}
    )


CLOUD_RULES = "cloud.yaml"
APPROVAL_LEASE_MINUTES = 0.02


@pytest.fixture(scope="session")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's default rules, with retries that take a second instead of minutes.

    ``default.yaml`` runs unattended (``run.approval: never``); ``approval.yaml`` is the same with
    ``run.approval: on_risk`` and a lease that lapses after 1.2 s, for the tests of the approval
    step; ``entra.yaml`` reads the example from the Entra emulator; CLOUD_RULES has an
    atlassian_cloud target (the param's choices are fixed at parse time).
    """
    folder = tmp_path_factory.mktemp("mapping_rules")
    rules = yaml.safe_load((REPO / "include" / "mapping_rules" / "default.yaml").read_text(encoding="utf-8"))
    rules["run"] |= {"task_retries": 1, "task_retry_delay_seconds": 0.2}
    fast = {"max_attempts": 2, "base_delay_seconds": 0.01, "max_delay_seconds": 0.05}
    rules["target"]["retry"] |= fast
    for name, approval in (("approval.yaml", "on_risk"), ("default.yaml", "never")):
        rules["run"]["approval"] = approval
        # an approval wait outlasts a lease of 1.2 s (see test_approval)
        run_rules = {**rules["run"], "lease_expiry_minutes": APPROVAL_LEASE_MINUTES}
        (folder / name).write_text(
            yaml.safe_dump({**rules, "run": run_rules} if approval == "on_risk" else rules), encoding="utf-8"
        )
    entra = yaml.safe_load((REPO / "include" / "mapping_rules" / "entra.yaml").read_text(encoding="utf-8"))
    entra["run"], entra["target"] = rules["run"], rules["target"]
    entra["source"]["retry"] = dict(fast)
    (folder / "entra.yaml").write_text(yaml.safe_dump(entra), encoding="utf-8")
    rules["target"] = {"kind": "atlassian_cloud", "retry": fast}
    (folder / CLOUD_RULES).write_text(yaml.safe_dump(rules), encoding="utf-8")
    return folder


def parse_dag(rules_dir: Path) -> Any:
    """The DAG as parsed with this rules folder (the Variable is read when the file is parsed)."""
    from airflow.dag_processing.dagbag import DagBag

    os.environ[RULES_DIR_VARIABLE] = str(rules_dir)
    try:
        bag = DagBag(dag_folder=REPO / "dags")
        assert bag.import_errors == {}
        return bag.dags[DAG_ID]
    finally:
        del os.environ[RULES_DIR_VARIABLE]


@pytest.fixture(scope="session")
def sync_dag(airflow_db: Path, rules_dir: Path) -> Any:
    """The DAG as parsed with the test rules folder."""
    return parse_dag(rules_dir)


@dataclass
class Site:
    """The sandbox one test runs the DAG against."""

    dag: Any
    confluence: EmulatorServer
    audit_url: str

    def run(self, **params: Any) -> Any:
        """One DAG run with these params (the others at their defaults); returns the finished DagRun.

        Every param is passed: in dag.test() the tasks run in this process, and a run's
        params would otherwise stay on the DAG object for the next run.
        """
        return self.dag.test(run_conf={**DEFAULT_PARAMS, **params})

    def audit(self) -> AuditStore:
        return AuditStore(self.audit_url)

    def record(self, dag_run: Any) -> RunRecord:
        with self.audit() as store:
            run = store.find_run(DAG_ID, dag_run.run_id)
        assert run is not None, f"the audit history has no run {dag_run.run_id}"
        return run

    def writes(self) -> int:
        """Requests that could change Confluence since the counters were last cleared."""
        by_method = self.confluence.emulator.counters.as_json()["by_method"]
        return sum(count for method, count in by_method.items() if method != "GET")


@pytest.fixture
def site(
    sync_dag: Any,
    ldap_example: OpenLdapSandbox,
    confluence: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Site:
    audit_url = f"sqlite:///{tmp_path}/audit.db"
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", ldap_connection(ldap_example))
    monkeypatch.setenv("AIRFLOW_CONN_CONFLUENCE_DEFAULT", confluence_connection(confluence))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONFLUENCE_PROVISIONING_AUDIT",
        json.dumps({"conn_type": "sqlite", "host": f"{tmp_path}/audit.db"}),
    )
    return Site(sync_dag, confluence, audit_url)
