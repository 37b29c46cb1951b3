"""The run report: escaped self-contained HTML, formula-safe CSV, exact JSON summary."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import audit, frames, reporting
from confluence_provisioning.audit import RunRecord
from confluence_provisioning.plan.operations import NOT_CREATED
from confluence_provisioning.reporting import GuardRow, ReportData

STARTED = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script>"


def results(*rows: tuple) -> pd.DataFrame:
    return frames.conform(pd.DataFrame(rows, columns=list(audit.OPERATIONS)), audit.OPERATIONS)


RESULTS = results(
    ("create_user", "alice", None, "applied", 201, 1, 30.0, None),
    ("create_user", "bob", None, "failed", 400, 1, 8.0, f"email {HOSTILE} is not valid"),
    ("add_membership", "alice", "eng & ops", "applied", 204, 2, 40.0, None),
)
REJECTS = frames.from_records(
    [{"source": "idp", "kind": "user", "dn": f"uid={HOSTILE},dc=example", "id": "c-1", "reason": "no mail"}],
    frames.REJECTS,
)


def report(**changes) -> ReportData:
    values = {
        "dag_id": "confluence_provisioning",
        "dag_run_id": "manual__2025-03-01",
        "rules_file": "default.yaml",
        "dry_run": False,
        "status": "failed",
        "started_at": STARTED,
        "ended_at": STARTED + timedelta(seconds=75),
        "results": RESULTS,
        "rejects": REJECTS,
        "guards": [GuardRow("users disabled or deleted", 0, "50 and 5%", "within limit")],
        "notes": ["Confluence hides emails; compared with the ledger"],
        "error": "1 operation failed: create user bob",
        "sources": {"directory users": 3, "Confluence users": 1},
        "users": {"desired": 3, "existing": 0, "created": 2, "not created": 1},
        "not_created": frames.conform(
            pd.DataFrame({"username": ["dora"], "reason": ["not created: disabled in the directory"]}),
            NOT_CREATED,
        ),
    }
    return ReportData(**{**values, **changes})


def test_the_summary_has_the_counts_of_the_run() -> None:
    assert reporting.summary(report()) == {
        "schema_version": 1,
        "dag_id": "confluence_provisioning",
        "dag_run_id": "manual__2025-03-01",
        "rules_file": "default.yaml",
        "dry_run": False,
        "status": "failed",
        "started_at": "2025-03-01T02:00:00+00:00",
        "ended_at": "2025-03-01T02:01:15+00:00",
        "duration_seconds": 75.0,
        "operations": 3,
        "by_status": {"applied": 2, "failed": 1},
        "by_operation": {"add_membership": {"applied": 1}, "create_user": {"applied": 1, "failed": 1}},
        "rejects": 1,
        "users": {"desired": 3, "existing": 0, "created": 2, "not_created": 1},
        "not_created": [{"username": "dora", "reason": "not created: disabled in the directory"}],
        "sources": {"directory_users": 3, "confluence_users": 1},
        "guards": [
            {
                "guard": "users_disabled_or_deleted",
                "planned": 0,
                "limit": "50 and 5%",
                "outcome": "within limit",
            }
        ],
        "violations": [],
        "notes": ["Confluence hides emails; compared with the ledger"],
        "error": "1 operation failed: create user bob",
    }
    assert json.loads(reporting.summary_json(report())) == reporting.summary(report())


def test_the_summary_follows_its_published_schema() -> None:
    schema_file = Path(reporting.__file__).parent / "templates" / "summary.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for data in (report(), report(dry_run=True, error=None, status="success", sources={})):
        jsonschema.validate(reporting.summary(data), schema)
    assert schema["properties"]["schema_version"] == {"const": reporting.SUMMARY_SCHEMA_VERSION}


def test_the_html_escapes_every_value_and_loads_nothing_from_outside() -> None:
    html = reporting.render_html(report(error=HOSTILE, notes=[HOSTILE], rules_file=HOSTILE))

    assert "<script" not in html
    assert (
        html.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 5
    )  # error, rules, note, failure, reject
    assert "eng &amp; ops" in html
    assert not re.search(r"(src|href)=|<link|@import|url\(", html)


def test_the_html_shows_summary_failures_guards_changes_and_rejects() -> None:
    html = reporting.render_html(report())

    assert "<tr><th>Operations</th><td>3 (2 applied, 1 failed)</td></tr>" in html
    assert "<h2>Failures (1)</h2>" in html
    assert "<h2>Changes (2)</h2>" in html
    assert "<tr><th>operation</th><th>target</th><th>group</th><th>status</th></tr>" in html
    assert "<tr><td>add_membership</td><td>alice</td><td>eng &amp; ops</td><td>applied</td></tr>" in html
    assert "<h2>Rejected entries (1)</h2>" in html
    assert "<tr><th>Desired users</th><td>3: 0 existing, 2 created, 1 not created</td></tr>" in html
    assert "<h2>Users not created (1)</h2>" in html
    assert "<tr><td>dora</td><td>not created: disabled in the directory</td></tr>" in html
    assert (
        "<tr><td>users disabled or deleted</td><td>0</td><td>50 and 5%</td><td>within limit</td></tr>" in html
    )
    assert "<li>Confluence hides emails; compared with the ledger</li>" in html
    # the chart: one bar per kind, one segment per status
    assert re.findall(r"<title>([^<]+)</title></rect>", html) == [
        "add_membership: 1 applied",
        "create_user: 1 applied",
        "create_user: 1 failed",
    ]


def test_a_dry_run_report_lists_what_would_have_been_done() -> None:
    html = reporting.render_html(report(dry_run=True, status="success", error=None))

    assert "Dry run: nothing was written to Confluence." in html
    assert "<h2>Changes that would have been made (2)</h2>" in html


def test_the_trend_shows_the_last_30_runs_oldest_first() -> None:
    trend = [
        RunRecord(
            id=n,
            dag_id="d",
            dag_run_id=f"r{n}",
            started_at=STARTED - timedelta(days=n),
            ended_at=None,
            rules_file="default.yaml",
            rules_sha256="x",
            dry_run=False,
            status="failed" if n == 1 else "success",
            counts={"create_user": {"applied": n, "failed": 1}},
        )
        for n in range(1, 41)
    ]
    html = reporting.render_html(report(trend=trend))

    assert "<h2>The last 30 runs</h2>" in html
    labels = re.findall(r"<title>([^<]+): \d+ operations</title>", html)
    assert len(labels) == 30
    assert labels[0] == "2025-01-30 02:00 success" and labels[-1] == "2025-02-28 02:00 failed"


def test_the_trend_chart_scales_bars_to_the_largest_run() -> None:
    runs = [
        RunRecord(
            1,
            "d",
            "a",
            STARTED,
            None,
            "f",
            "x",
            False,
            "success",
            {"create_user": {"applied": 30, "failed": 10}},
        ),
        RunRecord(2, "d", "b", STARTED, None, "f", "x", True, "success", {"create_user": {"applied": 20}}),
    ]
    first, second = reporting.trend_chart(runs, height=120.0)

    assert first.segments == [("success", 30, "#2e7d32", 30.0, 90.0), ("failed", 10, "#c62828", 0.0, 30.0)]
    assert second.segments == [("success", 20, "#2e7d32", 60.0, 60.0), ("failed", 0, "#c62828", 60.0, 0.0)]
    assert second.label == "2025-03-01 02:00 success (dry run)"


def test_the_csv_neutralises_cells_a_spreadsheet_would_run() -> None:
    hostile = results(
        *(
            ("create_user", f"{prefix}cmd|' /C calc'!A0", None, "applied", 201, 1, 1.0, None)
            for prefix in ("=", "+", "-", "@", "\t", "\r")
        ),
        ("create_user", "plain-name", None, "failed", 500, 3, 1.5, '=HYPERLINK("http://x")'),
    )
    text = reporting.operations_csv(hostile)
    rows = list(csv.reader(io.StringIO(text, newline="")))

    assert rows[0] == list(audit.OPERATIONS)
    assert [row[1] for row in rows[1:7]] == [
        f"'{prefix}cmd|' /C calc'!A0" for prefix in ("=", "+", "-", "@", "\t", "\r")
    ]
    assert rows[7] == [
        "create_user",
        "plain-name",
        "",
        "failed",
        "500",
        "3",
        "1.5",
        '\'=HYPERLINK("http://x")',
    ]


def test_the_report_files_are_written_to_the_run_folder(tmp_path) -> None:
    folder = ObjectStoragePath(f"file://{tmp_path}/run")

    files = reporting.write_report(folder, report())

    assert files == reporting.ReportFiles(
        html=f"file://{tmp_path}/run/report.html",
        csv=f"file://{tmp_path}/run/operations.csv",
        json=f"file://{tmp_path}/run/summary.json",
    )
    assert (tmp_path / "run" / "operations.csv").read_bytes() == reporting.operations_csv(RESULTS).encode()
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["by_status"] == {
        "applied": 2,
        "failed": 1,
    }
    assert (tmp_path / "run" / "report.html").read_text().startswith("<!DOCTYPE html>")
