"""The report task: the report files into the run folder, the run into the audit history.

It runs after every other task whatever happened to them, so a run that failed
still leaves its report and its audit row; it then fails itself, which fails the
DAG run. It reads what the other tasks left in the run folder, no XCom.

The report files come first, from the run folder alone, whatever the audit store
does. The audit write is retried; when it still fails, the record waits in the run
folder (``pending``) for the next run to back-fill, and the task fails saying so.
Whatever happens, the run's lease on the target is released at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from confluence_provisioning import frames, storage
from confluence_provisioning.audit import FAILED, SUCCESS, RunOutcome, RunRecord, operation_counts
from confluence_provisioning.pipeline import approval, lease, outcome, pending
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.pipeline.plan_files import read_plan_record, read_results
from confluence_provisioning.pipeline.tasklog import counts_text
from confluence_provisioning.plan.operations import NOT_CREATED, PLAN
from confluence_provisioning.printable import printable_logger
from confluence_provisioning.reporting import GuardRow, ReportData, summary, write_report

log = printable_logger("confluence_provisioning.pipeline")

REPORT_FOLDER = "report"
TREND_RUNS = 30
AUDIT_ATTEMPTS = 3  # the audit write, 1 s then 2 s apart: a locked or restarting store recovers
AUDIT_FIRST_DELAY = 1.0

T = TypeVar("T")


def report(run: RunContext) -> dict[str, Any]:
    """Write the report files, record the run in the audit history, prune old run folders."""
    try:
        return _report(run)
    finally:
        lease.release(run)


def _report(run: RunContext) -> dict[str, Any]:
    log.info("Writing the run's report and recording it in the audit history")
    record = read_plan_record(run)
    results, missing_chunks = read_results(record)
    results = _with_reasons(results, record)
    rejects = pd.concat(
        [
            _read_if_written(run.uri(name), frames.REJECTS)
            for name in ("source/rejects.parquet", "desired/rejects.parquet")
        ],
        ignore_index=True,
    )
    error, notes = _run_error(run, record, results, missing_chunks)
    status = SUCCESS if record is not None and error is None and not missing_chunks else FAILED
    ended = datetime.now(UTC)
    identity = run.identity()
    run_outcome = RunOutcome(
        status=status,
        ended_at=ended,
        operations=results,
        rejects=rejects,
        error=error,
        report_uri=run.uri(f"{REPORT_FOLDER}/report.html"),
        **_history_changes(run, record, results),
    )
    recorded_error, trend = _history(run)
    this_run = RunRecord(
        id=0,
        dag_id=run.dag_id,
        dag_run_id=run.dag_run_id,
        started_at=run.started_at,
        ended_at=ended,
        rules_file=identity.rules_file,
        rules_sha256=identity.rules_sha256,
        dry_run=identity.dry_run,
        status=status,
        counts=operation_counts(results),
    )
    data = ReportData(
        dag_id=run.dag_id,
        dag_run_id=run.dag_run_id,
        rules_file=run.params.rules_file,
        dry_run=run.params.dry_run,
        status=status,
        started_at=run.started_at,
        ended_at=ended,
        results=results,
        rejects=rejects,
        guards=_guards(run, record),
        violations=record["violations"] if record else [],
        notes=[*notes, *(record["notes"] if record else [])],
        users=record.get("users", {}) if record else {},
        not_created=_not_created(record),
        error=recorded_error or error,
        sources=_sources(run),
        trend=[this_run, *trend],
    )
    files = write_report(run.folder / REPORT_FOLDER, data)
    log.info("Report: %s", files.html)
    try:
        backfilled = _retried(lambda: _record(run, run_outcome))
    except Exception as failure:
        marker = pending.write(run.folder, identity, run_outcome)
        raise AirflowException(
            f"the audit store could not record this run ({type(failure).__name__}: {failure}). "
            f"Its report is written ({files.html}) and its record waits in the run folder ({marker}); "
            "the next run that reaches the audit store adds it to the history."
            + (f" The run itself failed: {data.error}" if status == FAILED else "")
        ) from None
    if backfilled:
        log.info(
            "Back-filled %d earlier runs into the audit history: %s", len(backfilled), ", ".join(backfilled)
        )
    base = storage.storage_base(run.settings.run.storage_base)
    pruned = storage.prune_run_folders(
        base, run.dag_id, run.settings.run.keep_run_folders_days, ended.date(), keep=pending.is_pending
    )
    if pruned:
        log.info(
            "Pruned %d run folders older than %d days", len(pruned), run.settings.run.keep_run_folders_days
        )
    numbers = summary(data)
    log.info("Run %s: %s", status, counts_text(numbers["by_status"]) or "no operations")
    log.info("Operations (CSV): %s; summary (JSON): %s", files.csv, files.json)
    log.info("Report: %s", files.html)  # the last line, where an operator looks for it
    if status == FAILED:
        raise AirflowFailException(
            f"{data.error or 'the run failed in an earlier task: see that task log'} (report: {files.html})"
        )
    # a short XCom: the task log's last line shows it
    return {"status": status, "by_status": numbers["by_status"], "report": files.html}


def _history(run: RunContext) -> tuple[str | None, list[RunRecord]]:
    """What the audit store already says: the error a failed task recorded, and the earlier runs.

    Only for the report's content: when the store cannot be read the report goes without.
    """
    try:
        with run.audit_store() as store:
            recorded = store.find_run(run.dag_id, run.dag_run_id)
            earlier = store.recent_runs(TREND_RUNS, dag_id=run.dag_id)
    except Exception as error:
        log.warning("The audit store cannot be read (%s): the report has no trend of earlier runs", error)
        return None, []
    return (
        recorded.error if recorded is not None else None,
        [record for record in earlier if record.dag_run_id != run.dag_run_id][: TREND_RUNS - 1],
    )


def _record(run: RunContext, run_outcome: RunOutcome) -> list[str]:
    """Back-fill the records waiting in run folders, then record this run; the back-filled run ids."""
    with run.audit_store() as store:
        backfilled = pending.backfill(store, storage.storage_base(run.settings.run.storage_base), run.dag_id)
        store.record_run(run.identity(), run_outcome)
    pending.clear(run.folder)  # a waiting record of an earlier try of this task
    return [run_id for run_id in backfilled if run_id != run.dag_run_id]


def _retried(write: Callable[[], T]) -> T:
    """``write()``, tried AUDIT_ATTEMPTS times with a doubling pause; the last error is raised."""
    delay = AUDIT_FIRST_DELAY
    for _ in range(AUDIT_ATTEMPTS - 1):
        try:
            return write()
        except Exception as error:
            log.warning("Recording in the audit store failed (%s); trying again in %g s", error, delay)
            time.sleep(delay)
            delay *= 2
    return write()


def _read_if_written(uri: str, schema: dict[str, str]) -> pd.DataFrame:
    return storage.read_frame(uri, schema) if storage.exists(uri) else frames.empty(schema)


def _run_error(
    run: RunContext, record: dict[str, Any] | None, results: pd.DataFrame, missing_chunks: list[str]
) -> tuple[str | None, list[str]]:
    """The run's error (None when it did not fail, or failed in a task that records its own) and notes."""
    if record is None:
        return None, ["The run stopped before a plan was made: nothing was applied."]
    notes = []
    if record.get("approval", {}).get("reasons"):
        decision = approval.read_decision(run)
        text = approval.decision_text(decision, run.settings.run.approval_timeout_hours)
        if decision is None or decision["decision"] != approval.APPROVED:
            return f"{text[0].upper()}{text[1:]}.", []
        notes.append(f"Approval: {text}; asked because " + "; ".join(record["approval"]["reasons"]))
    elif record["violations"]:
        return "the plan breaks safety guards; nothing was applied:\n" + "\n".join(
            f"- {text}" for text in record["violations"]
        ), []
    if missing_chunks:
        notes.append(f"{len(missing_chunks)} apply tasks did not finish: {', '.join(missing_chunks)}")
    return outcome.failure_message(results), notes


def _history_changes(run: RunContext, record: dict[str, Any] | None, results: pd.DataFrame) -> dict[str, Any]:
    """Ledger and managed-group updates; a dry run changed nothing, so it records none."""
    if run.params.dry_run or record is None or results.empty:
        return {}
    return {
        "pushed": outcome.pushed_profiles(
            storage.read_frame(run.uri("desired/users.parquet"), frames.DESIRED_USERS), results
        ),
        "groups_now_managed": outcome.created_groups(results),
        "groups_no_longer_managed": outcome.deleted_groups(results),
    }


def _with_reasons(results: pd.DataFrame, record: dict[str, Any] | None) -> pd.DataFrame:
    """The results with the plan's reason for each operation, for the report's tables."""
    if record is None or results.empty:
        return results.assign(reason=pd.Series(dtype=frames.STRING))
    reasons = storage.read_frame(record["plan"], PLAN)[["kind", "target", "group", "reason"]]
    merged = results.merge(
        reasons.rename(columns={"kind": "operation"}), on=["operation", "target", "group"], how="left"
    )
    return merged.reset_index(drop=True)


def _not_created(record: dict[str, Any] | None) -> pd.DataFrame:
    """The desired users the plan did not create, each with the reason (a report line each)."""
    if record is None or "not_created" not in record:
        return frames.empty(NOT_CREATED)
    return storage.read_frame(record["not_created"], NOT_CREATED)


def _guards(run: RunContext, record: dict[str, Any] | None) -> list[GuardRow]:
    if record is None:
        return []
    return outcome.guard_rows(
        record["summary"], run.settings.limits, allow_over_limits=run.params.allow_over_limits
    )


def _sources(run: RunContext) -> dict[str, int]:
    """How many users and groups each side had, from the frames the run wrote."""
    counts = {}
    for label, name in (
        ("directory users", "source/users"),
        ("directory groups", "source/groups"),
        ("Confluence users", "target/users"),
        ("Confluence groups", "target/groups"),
        ("desired users", "desired/users"),
        ("desired groups", "desired/groups"),
    ):
        uri = run.uri(f"{name}.parquet")
        if storage.exists(uri):
            counts[label] = storage.count_rows(uri)
    return counts
