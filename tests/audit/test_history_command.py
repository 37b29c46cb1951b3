"""``confluence-provisioning history`` prints recent runs and one run's operations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from confluence_provisioning import audit, cli, frames
from confluence_provisioning.audit import AuditStore, RunIdentity, RunOutcome

STARTED = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


def main(*argv: str) -> int:
    """The sub-command through the console command's dispatcher."""
    return cli.main(["history", *argv])


@pytest.fixture
def db(store: AuditStore, audit_url: sa.URL) -> str:
    """Two runs: a failed nightly one with operations, then a dry run."""
    results = frames.conform(
        pd.DataFrame(
            [
                ("create_user", "alice", None, "done", 201, 1, 30.0, None),
                ("add_membership", "alice", "engineering", "failed", 404, 1, 8.0, "group not found"),
            ],
            columns=list(audit.OPERATIONS),
        ),
        audit.OPERATIONS,
    )
    rejects = frames.from_records(
        [{"source": "idp", "kind": "user", "dn": "uid=x", "id": "1", "reason": "no mail"}], frames.REJECTS
    )
    for number, (dry_run, status, error) in enumerate(
        [
            (False, "failed", "1 operation failed: add membership alice -> engineering"),
            (True, "success", None),
        ]
    ):
        started = STARTED + timedelta(days=number)
        store.record_run(
            RunIdentity(
                "confluence_provisioning", f"scheduled__{number}", started, "default.yaml", "f" * 64, dry_run
            ),
            RunOutcome(
                status,
                started + timedelta(minutes=2),
                results if number == 0 else results.iloc[:0],
                rejects,
                error=error,
                report_uri=f"file:///runs/{number}/report.html",
            ),
        )
    return audit_url.render_as_string(hide_password=False)


def test_history_lists_the_last_runs_newest_first(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("--db", db) == 0

    assert capsys.readouterr().out.splitlines() == [
        "id  started (UTC)     status             ops  failed  rules         DAG run       error",
        "2   2025-03-02 02:00  success (dry run)  0    0       default.yaml  scheduled__1",
        "1   2025-03-01 02:00  failed             2    1       default.yaml  scheduled__0  "
        "1 operation failed: add membership alice -> engineering",
    ]
    assert main("--db", db, "--last", "1") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_history_shows_one_run_with_its_operations(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("--db", db, "--run", "1") == 0

    assert capsys.readouterr().out.splitlines() == [
        "Run 1: confluence_provisioning / scheduled__0",
        "  status:   failed",
        "  started:  2025-03-01 02:00:00 UTC, ended: 2025-03-01 02:02:00 UTC",
        "  rules:    default.yaml (sha256 ffffffffffff)",
        "  report:   file:///runs/0/report.html",
        "  error:    1 operation failed: add membership alice -> engineering",
        "  rejected: 1 directory entries",
        "",
        "2 operations",
        "operation       target  group        status  http  attempts  error",
        "create_user     alice                done    201   1",
        "add_membership  alice   engineering  failed  404   1         group not found",
    ]


def test_history_finds_a_run_by_the_dag_run_id_the_ui_shows(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main("--db", db, "--run", "scheduled__0") == 0
    by_id = capsys.readouterr().out
    assert main("--db", db, "--run", "1") == 0

    assert by_id == capsys.readouterr().out
    assert by_id.startswith("Run 1: confluence_provisioning / scheduled__0\n")


def test_history_as_json_for_scripts(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("--db", db, "--json") == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(run["id"], run["dag_run_id"], run["operations"], run["failed"]) for run in runs] == [
        (2, "scheduled__1", 0, 0),
        (1, "scheduled__0", 2, 1),
    ]

    assert main("--db", db, "--run", "scheduled__0", "--json") == 0
    one = json.loads(capsys.readouterr().out)
    assert (one["status"], one["rejects"], one["counts"]) == (
        "failed",
        1,
        {"add_membership": {"failed": 1}, "create_user": {"done": 1}},
    )
    assert one["operations"][1] == {
        "operation": "add_membership",
        "target": "alice",
        "group": "engineering",
        "status": "failed",
        "http_status": 404,
        "attempts": 1,
        "duration_ms": 8.0,
        "error": "group not found",
    }
    assert one["operations"][0]["group"] is None


def test_history_of_an_unknown_run_says_how_to_find_one(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("--db", db, "--run", "7") == 1

    assert capsys.readouterr().err == (
        "No run '7' (a DAG run id or a number); `confluence-provisioning history` lists the recorded runs.\n"
    )


def test_history_of_an_empty_store(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("--db", f"sqlite:///{tmp_path}/empty.db") == 0

    assert capsys.readouterr().out == "No runs recorded yet.\n"
