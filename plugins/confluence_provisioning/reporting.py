"""The run report: a self-contained HTML page, a spreadsheet-safe CSV of operations, a JSON summary.

The HTML has no external assets (inline CSS and SVG) so it can be mailed or
opened from an object store as is; every value goes through Jinja2's
autoescaping. The CSV neutralises cells a spreadsheet would run as formulas.
Rendering is pure: ``write_report`` is the only function that writes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import jinja2
import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, storage
from confluence_provisioning.apply.actions import ALREADY_TRUE, APPLIED, DRY_RUN
from confluence_provisioning.apply.applier import FAILED, NOT_ATTEMPTED, SKIPPED, UNFINISHED
from confluence_provisioning.audit import SUCCESS, RunRecord, operation_counts
from confluence_provisioning.plan.operations import NOT_CREATED
from confluence_provisioning.printable import printable

HTML_FILE = "report.html"
CSV_FILE = "operations.csv"
JSON_FILE = "summary.json"
# summary.json's shape: templates/summary.schema.json; raise on every change that is not an addition
SUMMARY_SCHEMA_VERSION = 1
# rows shown per table in the HTML; the CSV always has every operation
TABLE_LIMIT = 500
TREND_RUNS = 30
# what an admin reads in each table (the CSV has every column)
CHANGE_COLUMNS = ["operation", "target", "group", "status", "reason"]
FAILURE_COLUMNS = ["operation", "target", "group", "status", "http_status", "attempts", "error", "reason"]
SKIPPED_COLUMNS = ["operation", "target", "group", "error", "reason"]  # error: why it was skipped
# cells starting with these are run as formulas by spreadsheets (CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# operation statuses (confluence_provisioning.apply.applier) and run statuses (audit)
STATUS_COLOURS = {
    APPLIED: "#2e7d32",
    ALREADY_TRUE: "#81c784",
    DRY_RUN: "#1565c0",
    SKIPPED: "#90a4ae",
    FAILED: "#c62828",
    NOT_ATTEMPTED: "#ef6c00",
    SUCCESS: "#2e7d32",
}
OTHER_COLOUR = "#6d4c41"


@dataclass(frozen=True)
class GuardRow:
    """One line of the guards table: which guard, what the plan had, the limit, and the outcome."""

    guard: str
    planned: int
    limit: str  # in words: a count, or a count and a percentage
    outcome: str  # "within limit", "broken", "not applied (allow_over_limits)"


@dataclass(frozen=True)
class ReportData:
    dag_id: str
    dag_run_id: str
    rules_file: str
    dry_run: bool
    status: str
    started_at: datetime
    ended_at: datetime
    results: pd.DataFrame  # apply result rows (audit.OPERATIONS), a ``reason`` column when known
    rejects: pd.DataFrame  # frames.REJECTS
    guards: Sequence[GuardRow] = ()
    violations: Sequence[str] = ()  # the guards the plan broke, in the planner's words
    notes: Sequence[str] = ()
    error: str | None = None
    sources: dict[str, int] = field(default_factory=dict)  # e.g. {"directory users": 120}
    trend: Sequence[RunRecord] = ()  # earlier runs, newest first (as the audit store returns them)
    # desired users: existing + created + not created (plan.operations.Plan.users)
    users: Mapping[str, int] = field(default_factory=dict)
    not_created: pd.DataFrame | None = None  # plan.operations.NOT_CREATED: a line per user


@dataclass(frozen=True)
class ReportFiles:
    html: str
    csv: str
    json: str


@dataclass(frozen=True)
class Bar:
    """One bar of an SVG chart: stacked segments of (status, count, colour, x or y, size) in pixels."""

    label: str
    total: int
    segments: list[tuple[str, int, str, float, float]]

    @property
    def extent(self) -> float:
        return round(sum(segment[4] for segment in self.segments), 1)


def write_report(folder: ObjectStoragePath, data: ReportData) -> ReportFiles:
    """Write the three report files into ``folder``; return their URIs."""
    return ReportFiles(
        html=storage.write_text(folder, HTML_FILE, render_html(data)),
        csv=storage.write_text(folder, CSV_FILE, operations_csv(data.results)),
        json=storage.write_text(folder, JSON_FILE, summary_json(data)),
    )


def summary(data: ReportData) -> dict[str, Any]:
    """The run in numbers: what the JSON file holds and the log prints."""
    counts = operation_counts(data.results)
    by_status: dict[str, int] = {}
    for statuses in counts.values():
        for status, count in statuses.items():
            by_status[status] = by_status.get(status, 0) + count
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "dag_id": data.dag_id,
        "dag_run_id": data.dag_run_id,
        "rules_file": data.rules_file,
        "dry_run": data.dry_run,
        "status": data.status,
        "started_at": data.started_at.isoformat(),
        "ended_at": data.ended_at.isoformat(),
        "duration_seconds": round((data.ended_at - data.started_at).total_seconds(), 1),
        "operations": len(data.results),
        "by_status": dict(sorted(by_status.items())),
        "by_operation": counts,
        "rejects": len(data.rejects),
        "users": {label.replace(" ", "_"): count for label, count in data.users.items()},
        "not_created": [] if data.not_created is None else data.not_created.to_dict("records"),
        "sources": {label.lower().replace(" ", "_"): count for label, count in data.sources.items()},
        "guards": [asdict(row) | {"guard": row.guard.replace(" ", "_")} for row in data.guards],
        "violations": list(data.violations),
        "notes": list(data.notes),
        "error": data.error,
    }


def summary_json(data: ReportData) -> str:
    return json.dumps(summary(data), indent=2, ensure_ascii=False) + "\n"


def operations_csv(results: pd.DataFrame) -> str:
    """Every operation as CSV; text cells that a spreadsheet would evaluate get a leading quote."""
    buffer = io.StringIO()
    # RFC 4180 line ends: with them the writer also quotes cells holding a bare \r
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(results.columns)
    for row in results.itertuples(index=False, name=None):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def render_html(data: ReportData) -> str:
    results = data.results
    not_created = frames.empty(NOT_CREATED) if data.not_created is None else data.not_created
    failures = results[results["status"].isin(UNFINISHED)]
    skipped = results[results["status"] == SKIPPED]
    changes = results[~results["status"].isin([*UNFINISHED, SKIPPED])]
    counts = operation_counts(results)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            summary=summary(data),
            operations_chart=operations_chart(counts),
            trend_chart=trend_chart(list(reversed(data.trend[:TREND_RUNS]))),
            legend={status: _colour(status) for status in sorted(summary(data)["by_status"])},
            failures=_table(failures, FAILURE_COLUMNS),
            skipped=_table(skipped, SKIPPED_COLUMNS),
            changes=_table(changes, CHANGE_COLUMNS),
            rejects=_table(data.rejects, list(data.rejects.columns)),
            not_created=_table(not_created, list(NOT_CREATED)),
            limit=TABLE_LIMIT,
        )
    )


def operations_chart(counts: dict[str, dict[str, int]], width: float = 480.0) -> list[Bar]:
    """Horizontal bars per operation kind, split by status; x offsets and widths in pixels."""
    largest = max((sum(statuses.values()) for statuses in counts.values()), default=0)
    bars = []
    for operation, statuses in counts.items():
        x = 0.0
        segments = []
        for status, count in statuses.items():
            size = width * count / largest if largest else 0.0
            segments.append((status, count, _colour(status), round(x, 1), round(size, 1)))
            x += size
        bars.append(Bar(operation, sum(statuses.values()), segments))
    return bars


def trend_chart(runs: Iterable[RunRecord], height: float = 120.0) -> list[Bar]:
    """Vertical bars per run (oldest first), failed operations stacked on the rest; y and height in pixels."""
    runs = list(runs)
    largest = max((run.total() for run in runs), default=0)
    scale = height / largest if largest else 0.0
    bars = []
    for run in runs:
        failed = run.total(FAILED)
        rest = run.total() - failed
        rest_height, failed_height = rest * scale, failed * scale
        segments = [
            (run.status, rest, _colour(run.status), height - rest_height, rest_height),
            (FAILED, failed, _colour(FAILED), height - rest_height - failed_height, failed_height),
        ]
        label = f"{run.started_at:%Y-%m-%d %H:%M} {run.status}{' (dry run)' if run.dry_run else ''}"
        bars.append(
            Bar(label, run.total(), [(s, n, c, round(y, 1), round(h, 1)) for s, n, c, y, h in segments])
        )
    return bars


def _colour(status: str) -> str:
    return STATUS_COLOURS.get(status, OTHER_COLOUR)


def _table(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Those of ``columns`` the frame has, its rows (missing values as empty text), how many were left out."""
    shown = frame[[column for column in columns if column in frame.columns]].head(TABLE_LIMIT)
    # escaped as well as autoescaped: a bidirectional override would reorder what a reader sees
    rows = [
        ["" if _missing(value) else printable(str(value)) for value in row]
        for row in shown.itertuples(index=False)
    ]
    return {"columns": list(shown.columns), "rows": rows, "more": max(0, len(frame) - TABLE_LIMIT)}


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def environment(package: str = "confluence_provisioning") -> jinja2.Environment:
    """The Jinja2 environment of the ``templates`` folder of ``package``: autoescaped, strict."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
