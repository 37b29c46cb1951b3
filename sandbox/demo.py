"""``make demo``: the nightly sync, twice, against the local sandbox.

1. starts a real slapd serving ``sandbox/directories/example.ldif`` and the
   Confluence emulator (an empty site);
2. runs the DAG once with ``airflow dags test`` (a full first sync), with
   AIRFLOW_HOME=.demo/airflow and ``AIRFLOW_CONN_*`` variables pointing at the sandbox;
3. changes the directory: a new hire, a leaver, and someone moving from QA to sales;
4. runs the DAG again, which makes exactly those changes;
5. prints both runs' summaries and report paths, and stops everything it started.

The full Airflow logs of each run are in ``.demo/run-1.log`` and ``.demo/run-2.log``.

The demo runs unattended, so its rules (``.demo/mapping_rules/default.yaml``, a copy of
the project's) say ``run.approval: never``: with the default, ``on_risk``, the first run
would wait for a person's approval in the Airflow UI, and ``airflow dags test`` with it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sandbox.airflow_env import (
    CONFLUENCE_ADMIN_PASSWORD,
    REPO,
    RULES_DIR_VARIABLE,
    airflow,
    airflow_environment,
    prepare_airflow,
    unattended_rules,
)
from sandbox.confluence import EmulatorServer
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.openldap import OpenLdapSandbox

if TYPE_CHECKING:
    from confluence_provisioning.audit import RunRecord

DEMO = REPO / ".demo"
DAG_ID = "confluence_provisioning"

NEW_HIRE = """\
dn: uid=nnewman,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: nnewman
cn: Nora Newman
sn: Newman
givenName: Nora
displayName: Nora Newman
mail: nora.newman@example.com

dn: cn=sales,ou=groups,dc=example,dc=com
changetype: modify
add: member
member: uid=nnewman,ou=people,dc=example,dc=com
"""
LEAVER = """\
dn: uid=ckim,ou=people,dc=example,dc=com
changetype: delete
"""
MOVE_FROM_QA_TO_SALES = """\
dn: cn=qa,ou=groups,dc=example,dc=com
changetype: modify
delete: uniqueMember
uniqueMember: uid=skim,ou=people,dc=example,dc=com

dn: cn=sales,ou=groups,dc=example,dc=com
changetype: modify
add: member
member: uid=skim,ou=people,dc=example,dc=com
"""


@contextmanager
def running_sandbox() -> Iterator[tuple[OpenLdapSandbox, EmulatorServer]]:
    """slapd with the example directory and an empty Confluence emulator site; both stopped after."""
    with (
        OpenLdapSandbox([EXAMPLE_LDIF]) as ldap,
        EmulatorServer(admin_password=CONFLUENCE_ADMIN_PASSWORD) as confluence,
    ):
        yield ldap, confluence


def main() -> int:
    started = time.monotonic()
    home = DEMO / "airflow"
    shutil.rmtree(home, ignore_errors=True)  # every demo starts from an empty Airflow home
    home.mkdir(parents=True)
    step("Starting the sandbox: slapd with sandbox/directories/example.ldif, and the Confluence emulator")
    with running_sandbox() as (ldap, confluence):
        rules = unattended_rules(DEMO / "mapping_rules")
        env = {**airflow_environment(home, ldap, confluence), RULES_DIR_VARIABLE: str(rules)}
        # the audit store and run folders are read here too: this process must see the same home
        os.environ["AIRFLOW_HOME"] = str(home)
        step(f"Preparing Airflow in {home.relative_to(REPO)} (airflow db migrate, pool confluence_api)")
        prepare_airflow(env)
        first = sync(env, 1, "the first sync: Confluence is empty, so everything is created")
        step("Changing the directory: new hire nnewman (sales), leaver ckim, skim moves from QA to sales")
        ldap.add_ldif(NEW_HIRE)
        ldap.modify_ldif(LEAVER)
        ldap.modify_ldif(MOVE_FROM_QA_TO_SALES)
        second = sync(env, 2, "the second sync: only what changed in the directory")
    step("Stopped slapd and the Confluence emulator")
    print()
    show(first, operations=False)
    show(second, operations=True)
    print(f"\nThe demo took {time.monotonic() - started:.0f} s. The audit history of its runs:")
    print(f"  AIRFLOW_HOME={home.relative_to(REPO)} .venv/bin/confluence-provisioning history [--run ID]")
    return 0 if first.status == second.status == "success" else 1


def sync(env: Mapping[str, str], number: int, what: str) -> RunRecord:
    """One ``airflow dags test`` run; returns its audit record."""
    from confluence_provisioning.audit import AuditStore, audit_url

    log = DEMO / f"run-{number}.log"
    step(f"Run {number}, {what} (airflow dags test {DAG_ID}; log: {log.relative_to(REPO)})")
    began = time.monotonic()
    airflow(env, "dags", "test", DAG_ID, log=log)
    with AuditStore(audit_url("confluence_provisioning_audit")) as store:
        run = store.recent_runs(1, dag_id=DAG_ID)[0]
    print(f"    {run.status} in {time.monotonic() - began:.0f} s: {run.total()} operations")
    if run.status != "success":
        print("    " + "\n    ".join(log.read_text(encoding="utf-8").splitlines()[-30:]))
    return run


def show(run: RunRecord, *, operations: bool) -> None:
    """A run's summary from its report, and (for a small run) its operations from the history."""
    from confluence_provisioning import storage
    from confluence_provisioning.audit import AuditStore, audit_url

    summary = json.loads(storage.read_text(run.report_uri.removesuffix("report.html") + "summary.json"))
    counts = ", ".join(f"{count} {status}" for status, count in summary["by_status"].items()) or "none"
    print(f"Run {run.id} ({run.dag_run_id}): {summary['status']}")
    print(f"  operations: {summary['operations']} ({counts}); entries left out: {summary['rejects']}")
    for operation, by_status in summary["by_operation"].items():
        print(f"    {operation}: {', '.join(f'{n} {status}' for status, n in by_status.items())}")
    if operations:
        with AuditStore(audit_url("confluence_provisioning_audit")) as store:
            for row in store.operations(run.id).itertuples(index=False):
                group = f" -> {row.group}" if isinstance(row.group, str) else ""
                print(f"    - {row.operation} {row.target}{group}: {row.status}")
    print(f"  report: {run.report_uri}")


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
