"""The audit store breaks after apply has started (SQLite and PostgreSQL): the report task still writes
the report, keeps the run's record in the run folder and fails; once the store is back, the next run
back-fills it and ``history`` shows the run with every operation. Pruning never deletes it meanwhile.

The tasks' bodies run as the DAG runs them (``tasks.apply_chunk``, ``recording.report``), against the
emulator and a real audit database, without the scheduler around them.
"""

from __future__ import annotations

import argparse
import io
import json
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
import yaml
from airflow.sdk.exceptions import AirflowException

from confluence_provisioning import storage
from confluence_provisioning.audit import AuditStore
from confluence_provisioning.commands import history
from confluence_provisioning.pipeline import pending, recording, tasks
from confluence_provisioning.pipeline.context import RunContext, RunParams
from confluence_provisioning.pipeline.plan_files import write_chunks, write_plan_record
from confluence_provisioning.plan.planner import plan
from tests.apply.site import OPEN_LIMITS, connect, team

WANT = team("alice", "bob", "carol")  # 1 group, 3 users, 3 memberships


class Breakage:
    """Breaks the audit database in place and mends it: a corrupt SQLite file, a PostgreSQL schema gone."""

    def __init__(self, url: sa.URL) -> None:
        self.url = url
        self.saved = b""

    def take_down(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            path = Path(self.url.database)
            self.saved = path.read_bytes()
            path.write_bytes(b"this is not a database" * 100)
        else:
            self._rename(self._schema, f"{self._schema}_away")

    def bring_back(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            Path(self.url.database).write_bytes(self.saved)
        else:
            self._rename(f"{self._schema}_away", self._schema)

    @property
    def _schema(self) -> str:
        return self.url.query["options"].split("=", 1)[1]

    def _rename(self, old: str, new: str) -> None:
        with psycopg.connect(
            host=self.url.host, port=self.url.port, user=self.url.username, autocommit=True
        ) as conn:
            conn.execute(f'ALTER SCHEMA "{old}" RENAME TO "{new}"')


def test_a_broken_audit_store_loses_no_run(
    audit_url: sa.URL, confluence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    login, password = confluence.admin_auth
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONFLUENCE_DEFAULT",
        json.dumps({"conn_type": "http", "host": confluence.base_url, "login": login, "password": password}),
    )
    url = audit_url.render_as_string(hide_password=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONFLUENCE_PROVISIONING_AUDIT",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}}),
    )
    monkeypatch.setattr(recording, "AUDIT_FIRST_DELAY", 0.01)  # the retries, without the patience
    rules = {"limits": OPEN_LIMITS, "run": {"storage_base": f"file://{tmp_path}/runs"}}
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    started = datetime.now(UTC)
    run = RunContext("sync", "manual__audit_down", started, started, tmp_path, RunParams())
    AuditStore(audit_url).close()  # the store exists and works when the run starts
    storage.write_frame(run.folder, "desired/users", WANT.users)
    with connect(confluence) as client:
        the_plan = plan(WANT, client.snapshot(["eng"]), run.settings)
    chunks = write_chunks(run, the_plan, run.settings.run.apply_chunk_size)
    write_plan_record(run, the_plan, chunks=chunks, violations=[])
    breakage = Breakage(audit_url)

    for stage, uris in chunks.items():
        for chunk in uris:
            tasks.apply_chunk(run, chunk)
        if stage == "create_groups":
            breakage.take_down()  # after apply has started

    with pytest.raises(AirflowException) as failed:
        recording.report(run)

    report = run.folder / "report"
    marker = report / "audit-pending" / "record.json"
    message = str(failed.value)
    assert message.startswith("the audit store could not record this run (")
    assert message.endswith(
        f"Its report is written ({report / 'report.html'}) and its record waits in the run folder "
        f"({marker}); the next run that reaches the audit store adds it to the history."
    )
    summary = json.loads((report / "summary.json").read_text())
    assert (summary["status"], summary["by_status"]) == ("success", {"applied": 7})
    assert len((report / "operations.csv").read_text().splitlines()) == 1 + 7
    assert marker.exists()
    # pruning keeps the folder of a run whose record waits, and prunes the others of its day
    later = date.today() + timedelta(days=30)
    other = storage.run_folder(storage.storage_base(run.settings.run.storage_base), "sync", "other", started)
    storage.write_text(other, "report/report.html", "<html></html>")
    pruned = storage.prune_run_folders(
        storage.storage_base(run.settings.run.storage_base), "sync", 14, later, keep=pending.is_pending
    )
    assert pruned == [str(other)] and marker.exists()

    breakage.bring_back()
    with AuditStore(audit_url) as store:
        assert store.find_run("sync", "manual__audit_down") is None
        # the next run that reaches the store (its plan, or its report) back-fills the record
        backfilled = pending.backfill(store, storage.storage_base(run.settings.run.storage_base), "sync")
        recorded = store.find_run("sync", "manual__audit_down")
        assert store.managed_groups() == frozenset({"eng"})
        assert set(store.ledger()["username"]) == {"alice", "bob", "carol"}

    assert backfilled == ["manual__audit_down"] and not marker.exists()
    assert (recorded.status, recorded.report_uri) == ("success", str(report / "report.html"))
    shown = io.StringIO()
    with redirect_stdout(shown):
        assert (
            history.run(argparse.Namespace(db=url, conn_id=None, run_id=recorded.id, last=10, json=False))
            == 0
        )
    lines = shown.getvalue().splitlines()
    assert lines[0] == f"Run {recorded.id}: sync / manual__audit_down"
    assert "7 operations" in lines
    shown_operations = {tuple(line.split()[:3]) for line in lines[lines.index("7 operations") + 2 :]}
    assert shown_operations == {
        ("create_group", "eng", "applied"),
        *{("create_user", name, "applied") for name in ("alice", "bob", "carol")},
        *{("add_membership", name, "eng") for name in ("alice", "bob", "carol")},
    }
