"""``confluence-provisioning history``: recent sync runs, or one run's operations, from the audit store."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

import pandas as pd

from confluence_provisioning.audit import AuditStore, RunRecord, audit_url
from confluence_provisioning.printable import printable, printable_lines
from confluence_provisioning.settings import RunSettings

ERROR_WIDTH = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--last", type=_positive, default=10, metavar="N", help="show the last N runs (default 10)"
    )
    which.add_argument(
        "--run",
        dest="run_id",
        metavar="ID",
        help="show one run and its operations: the DAG run id as the Airflow UI shows it "
        "(e.g. manual__2026-12-01T02:00:00+00:00), or the number in the first column of the list",
    )
    parser.add_argument("--json", action="store_true", help="print JSON, for scripts")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--conn-id",
        default=RunSettings().audit_connection_id,
        help="Airflow connection of the audit database (default %(default)s; "
        "without it, the SQLite file under AIRFLOW_HOME)",
    )
    where.add_argument("--db", metavar="URL", help="SQLAlchemy URL of the audit database instead")


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    store = AuditStore(args.db or audit_url(args.conn_id))
    try:
        if args.run_id is None:
            runs = store.recent_runs(args.last)
            if args.json:
                json.dump([_run_json(run) for run in runs], out, indent=2)
                print(file=out)
            else:
                _show_runs(runs, out)
            return 0
        found = _find(store, str(args.run_id))
        if found is None:
            return 1
        if args.json:
            operations = store.operations(found.id)
            json.dump(
                {
                    **_run_json(found),
                    "rejects": len(store.rejects(found.id)),
                    "operations": [
                        {name: _plain(value) for name, value in row.items()}
                        for row in operations.to_dict(orient="records")
                    ],
                },
                out,
                indent=2,
            )
            print(file=out)
            return 0
        _show_run(store, found, out)
        return 0
    finally:
        store.close()


def _find(store: AuditStore, wanted: str) -> RunRecord | None:
    """The run a DAG run id names, or the run with that number; None (said on stderr) when neither."""
    runs = store.runs_of_dag_run(wanted)
    if not runs and wanted.isdigit():
        number = store.get_run(int(wanted))
        runs = [number] if number is not None else []
    if len(runs) == 1:
        return runs[0]
    if runs:
        listed = ", ".join(f"{run.id} ({run.dag_id})" for run in runs)
        print(f"{len(runs)} DAGs have a run {wanted!r}: give the number of one of {listed}", file=sys.stderr)
    else:
        print(
            f"No run {wanted!r} (a DAG run id or a number); `confluence-provisioning history` lists the "
            "recorded runs.",
            file=sys.stderr,
        )
    return None


def _run_json(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "dag_id": run.dag_id,
        "dag_run_id": run.dag_run_id,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "status": run.status,
        "dry_run": run.dry_run,
        "rules_file": run.rules_file,
        "rules_sha256": run.rules_sha256,
        "operations": run.total(),
        "failed": run.total("failed"),
        "counts": run.counts,
        "error": run.error,
        "report_uri": run.report_uri,
    }


def _plain(value: object) -> object:
    """A JSON value: missing values as null, numpy numbers as numbers."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _show_runs(runs: list[RunRecord], out: TextIO) -> None:
    if not runs:
        print("No runs recorded yet.", file=out)
        return
    rows = [
        [
            str(run.id),
            f"{run.started_at:%Y-%m-%d %H:%M}",
            run.status + (" (dry run)" if run.dry_run else ""),
            str(run.total()),
            str(run.total("failed")),
            run.rules_file,
            run.dag_run_id,
            _short(run.error),
        ]
        for run in runs
    ]
    _print_table(["id", "started (UTC)", "status", "ops", "failed", "rules", "DAG run", "error"], rows, out)


def _show_run(store: AuditStore, run: RunRecord, out: TextIO) -> None:
    ended = f"{run.ended_at:%Y-%m-%d %H:%M:%S}" if run.ended_at else "-"
    print(f"Run {run.id}: {run.dag_id} / {run.dag_run_id}", file=out)
    print(f"  status:   {run.status}{' (dry run)' if run.dry_run else ''}", file=out)
    print(f"  started:  {run.started_at:%Y-%m-%d %H:%M:%S} UTC, ended: {ended} UTC", file=out)
    print(f"  rules:    {run.rules_file} (sha256 {run.rules_sha256[:12]})", file=out)
    if run.report_uri:
        print(f"  report:   {run.report_uri}", file=out)
    if run.error:
        print(f"  error:    {printable_lines(run.error)}", file=out)
    print(f"  rejected: {len(store.rejects(run.id))} directory entries", file=out)
    operations = store.operations(run.id)
    print(f"\n{len(operations)} operations", file=out)
    if len(operations):
        columns = ["operation", "target", "group", "status", "http_status", "attempts", "error"]
        rows = [[_text(value) for value in row] for row in operations[columns].itertuples(index=False)]
        _print_table(["operation", "target", "group", "status", "http", "attempts", "error"], rows, out)


def _print_table(header: list[str], rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip(), file=out
        )


def _text(value: object) -> str:
    """A cell as printable text: operations hold directory names and Confluence's own messages."""
    return "" if pd.isna(value) else printable(str(value))


def _short(text: str | None) -> str:
    if not text:
        return ""
    line = printable(text.split("\n")[0])
    return line if len(line) <= ERROR_WIDTH else line[: ERROR_WIDTH - 1] + "…"


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return number
