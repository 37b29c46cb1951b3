"""The audit database breaks while a run applies: the run still writes its report and keeps its record,
but cannot release its lease on the site. Once the database is back, the next run takes the lease over
at once (Airflow says the first run has ended), back-fills the first run's record, and ``history``
shows it with every operation."""

from __future__ import annotations

import argparse
import io
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import sqlalchemy as sa

from confluence_provisioning import storage
from confluence_provisioning.audit import leases
from confluence_provisioning.commands import history
from confluence_provisioning.pipeline import recording
from tests.dag.conftest import DAG_ID, Site
from tests.dag.test_dag_runs import confluence_state, task_states


def test_a_run_whose_audit_store_broke_keeps_its_record_until_the_next_run(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "AUDIT_FIRST_DELAY", 0.01)  # the retries, without the patience
    database = tmp_path / "audit.db"
    with site.audit():
        pass  # the store exists and works when the run starts
    saved: list[bytes] = []

    def break_after_apply_starts() -> None:
        deadline = time.monotonic() + 300
        while site.writes() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        saved.append(database.read_bytes())
        database.write_bytes(b"this is not a database" * 100)

    breaker = threading.Thread(target=break_after_apply_starts, daemon=True)
    breaker.start()
    first = site.run()
    breaker.join(timeout=5)

    assert saved, "apply never started"
    assert first.state == "failed"
    states = task_states(first)
    assert states["apply.add_memberships"][0] == "success" and states["report"][0] == "failed"
    after = confluence_state(site.confluence)
    # the report is there, and the record waits beside it
    folder = storage.run_folder(storage.storage_base(None), DAG_ID, first.run_id, first.run_after)
    marker = folder / "report" / "audit-pending" / "record.json"
    assert (folder / "report" / "report.html").exists() and marker.exists()

    database.write_bytes(saved[0])  # the database is back
    with site.audit() as store, store.engine.connect() as conn:
        assert store.find_run(DAG_ID, first.run_id) is None
        # the first run's report could not release its lease: it still names the first run
        assert conn.execute(sa.select(leases.c.dag_run_id)).scalars().all() == [first.run_id]

    second = site.run()

    assert second.state == "success"
    with site.audit() as store, store.engine.connect() as conn:
        assert conn.execute(sa.select(leases)).all() == []  # taken over, then released by the report
    assert confluence_state(site.confluence) == after  # the first run had done everything
    record = site.record(first)
    assert record.status == "success"
    with site.audit() as store:
        recorded = store.operations(record.id)
    assert len(recorded) == record.total() > 0
    assert set(recorded["status"]) == {"applied"}
    shown = io.StringIO()
    with redirect_stdout(shown):
        args = argparse.Namespace(db=site.audit_url, conn_id=None, run_id=record.id, last=10, json=False)
        assert history.run(args) == 0
    assert f"{len(recorded)} operations" in shown.getvalue().splitlines()
    assert record.report_uri == str(folder / "report" / "report.html") and not marker.exists()
