"""How long a DAG run takes in ``airflow standalone``, and how many tasks it starts.

    python -m bench.airflow_runs [--tree DIR] [--label NAME] [--noop-runs N]

Starts slapd (``sandbox/directories/example.ldif``) and the Confluence
emulator, then ``airflow standalone`` (LocalExecutor, SQLite) in a throwaway
home with the DAG and library of ``--tree`` (default: this checkout, so an
older commit can be measured from a ``git archive`` of it). It runs a first
full sync (not measured), ``--noop-runs`` runs with nothing to do, and one run
after the demo's directory changes (a new hire, a leaver, a move from QA to
sales). For each measured run it prints the DAG run's wall time (queued to
end, as the scheduler records it) and its task instances by state, and
appends the figures as JSON lines to ``bench/out/airflow_runs.jsonl``.

Approval is switched off (``run.approval: never``, when the tree knows the
key): nobody is there to approve, and the point is the DAG's own cost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox.airflow_env import (
    AIRFLOW,
    CONFLUENCE_ADMIN_PASSWORD,
    REPO,
    airflow,
    airflow_environment,
    prepare_airflow,
)
from sandbox.airflow_standalone import stop
from sandbox.confluence import EmulatorServer
from sandbox.demo import LEAVER, MOVE_FROM_QA_TO_SALES, NEW_HIRE
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.openldap import OpenLdapSandbox
from sandbox.openldap.process import free_port

DAG_ID = "confluence_provisioning"
OUT = REPO / "bench" / "out" / "airflow_runs.jsonl"
RUN_TIMEOUT = 900.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout whose DAG and library to run")
    parser.add_argument("--label", default="current", help="names the measurement in the output")
    parser.add_argument("--noop-runs", type=int, default=2)
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    with (
        tempfile.TemporaryDirectory(prefix="airflow-runs-") as scratch,
        OpenLdapSandbox([EXAMPLE_LDIF]) as ldap,
        EmulatorServer(admin_password=CONFLUENCE_ADMIN_PASSWORD) as confluence,
    ):
        home = Path(scratch)
        env = _environment(home, tree, ldap, confluence)
        prepare_airflow(env)
        log = home / "standalone.log"
        with log.open("wb") as output:
            standalone = subprocess.Popen(
                [AIRFLOW, "standalone"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            database = home / "airflow.db"
            _wait_for_dag(database, standalone, log)
            airflow(env, "dags", "unpause", DAG_ID)
            results = []
            _run(env, database, "initial")
            for number in range(1, args.noop_runs + 1):
                results.append(_run(env, database, f"noop-{number}"))
            ldap.add_ldif(NEW_HIRE)
            ldap.modify_ldif(LEAVER)
            ldap.modify_ldif(MOVE_FROM_QA_TO_SALES)
            results.append(_run(env, database, "changes"))
        finally:
            stop(standalone)
    _record(args.label, tree, results)
    return 0


def _environment(home: Path, tree: Path, ldap: OpenLdapSandbox, confluence: EmulatorServer) -> dict[str, str]:
    rules_dir = home / "mapping_rules"
    rules_dir.mkdir()
    rules = yaml.safe_load((tree / "include" / "mapping_rules" / "default.yaml").read_text(encoding="utf-8"))
    if "approval:" in (tree / "include" / "mapping_rules" / "default.yaml").read_text(encoding="utf-8"):
        rules["run"]["approval"] = "never"
    (rules_dir / "default.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    port = free_port()  # other Airflows on this machine may hold 8080
    return {
        **airflow_environment(home, ldap, confluence),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tree / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(tree / "plugins"),
        "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "plugins")]),
        "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_RULES_DIR": str(rules_dir),
        "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_SCHEDULE": "none",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
    }


def _wait_for_dag(database: Path, standalone: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if standalone.poll() is not None:
            raise SystemExit(f"airflow standalone stopped:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(sqlite3.Error):
            if _query(database, "SELECT 1 FROM dag WHERE dag_id = ?", DAG_ID):
                return
        time.sleep(2)
    raise SystemExit("the DAG did not appear in 5 minutes")


def _run(env: dict[str, str], database: Path, name: str) -> dict[str, Any]:
    run_id = f"bench-{name}-{int(time.time())}"
    airflow(env, "dags", "trigger", DAG_ID, "--run-id", run_id)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        rows = _query(
            database, "SELECT state, queued_at, start_date, end_date FROM dag_run WHERE run_id = ?", run_id
        )
        if rows and rows[0][0] in ("success", "failed"):
            break
        time.sleep(1)
    else:
        raise SystemExit(f"run {run_id} did not finish in {RUN_TIMEOUT:.0f} s")
    state, queued, started, ended = rows[0]
    tasks = Counter(
        state or "none"
        for (state,) in _query(database, "SELECT state FROM task_instance WHERE run_id = ?", run_id)
    )
    result = {
        "run": name,
        "state": state,
        "seconds": round((_time(ended) - _time(queued or started)).total_seconds(), 1),
        "tasks": dict(sorted(tasks.items())),
        "operations": _operations(database, run_id),
    }
    print(json.dumps(result), flush=True)
    return result


def _operations(database: Path, run_id: str) -> int | None:
    """The operations the plan task reported (its XCom), when it says."""
    rows = _query(
        database,
        "SELECT value FROM xcom WHERE run_id = ? AND task_id = 'plan' AND key IN ('return_value', 'summary')",
        run_id,
    )
    for (value,) in rows:
        with contextlib.suppress(TypeError, ValueError, KeyError):
            data = json.loads(value)
            while isinstance(data, str):
                data = json.loads(data)
            if isinstance(data, dict) and "operations" in data:
                return int(data["operations"])
    return None


def _query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        return connection.execute(sql, params).fetchall()


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _record(label: str, tree: Path, results: list[dict[str, Any]]) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with OUT.open("a", encoding="utf-8") as output:
        for result in results:
            row = {"label": label, "tree": str(tree), "at": stamp, "cpus": os.cpu_count(), **result}
            output.write(json.dumps(row) + "\n")
    print(f"{label} ({platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}): see {OUT}")


if __name__ == "__main__":
    sys.exit(main())
