"""The body of each DAG task. The DAG file wires these; they decide.

Tasks hand each other only URIs of Parquet files in the run folder and small
summaries. Each task logs one line of what it will do first and a summary
(counts, time) last. What must not be retried (a broken rules file, a broken
guard, a bad param) raises ``AirflowFailException``; anything else may be
retried by Airflow, which is safe: every task rewrites its own files, and
applying is idempotent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from confluence_provisioning import frames, mapping, planning, storage
from confluence_provisioning.applying import RESULTS, apply_operations
from confluence_provisioning.audit import FAILED, SUCCESS, AuditStore, RunOutcome, audit_url
from confluence_provisioning.confluence.hook import ConfluenceHook
from confluence_provisioning.confluence.retry import RetryPolicy
from confluence_provisioning.confluence.snapshot import ConfluenceSnapshot
from confluence_provisioning.idp.reading import read_directory
from confluence_provisioning.idp.snapshot import IdpSnapshot
from confluence_provisioning.pipeline import outcome
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.pipeline.tasklog import counts_text, group
from confluence_provisioning.plan.operations import PLAN, Plan
from confluence_provisioning.reporting import ReportData, write_report
from confluence_provisioning.reporting import summary as report_summary
from confluence_provisioning.settings import RunSettings

log = logging.getLogger("confluence_provisioning.pipeline")

DIRECTORY_FRAMES = {"users": frames.USERS, "groups": frames.GROUPS, "memberships": frames.MEMBERSHIPS}
DESIRED_FRAMES = {
    "users": frames.DESIRED_USERS,
    "groups": frames.DESIRED_GROUPS,
    "memberships": frames.DESIRED_MEMBERSHIPS,
    "held": frames.HELD_USERS,
}
# one mapped apply task per stage, named after it: "create groups" -> apply.create_groups
STAGE_TASKS: dict[str, str] = {name: name.replace(" ", "_") for name, _ in planning.STAGES}
STAGE_KINDS = {STAGE_TASKS[name]: kinds for name, kinds in planning.STAGES}
PLAN_RECORD = "plan/plan.json"
NO_CHUNK = ""  # the one chunk of a stage without operations
REPORT_FOLDER = "report"


def extract_idp(run: RunContext) -> dict[str, Any]:
    directory = run.settings.directory
    log.info(
        "Reading users and groups from LDAP (connection %s, %s directory, rules %s)",
        directory.connection_id,
        directory.flavour.value,
        run.params.rules_file,
    )
    started = time.monotonic()
    with group("LDAP searches"):
        snapshot = read_directory(directory)
    uris = {
        name: storage.write_frame(run.folder, f"idp/{name}", getattr(snapshot, name))
        for name in [*DIRECTORY_FRAMES, "rejects"]
    }
    counts = {
        "users": len(snapshot.users),
        "active users": int(snapshot.users["active"].sum()),
        "groups": len(snapshot.groups),
        "memberships": len(snapshot.memberships),
        "rejected entries": len(snapshot.rejects),
    }
    log.info("Read %s from LDAP in %.1f s", counts_text(counts), time.monotonic() - started)
    return {"uris": uris, "counts": counts}


def extract_confluence(run: RunContext) -> dict[str, Any]:
    settings = run.settings
    conn_id = settings.confluence.connection_id
    log.info("Reading users, groups and memberships from Confluence (connection %s)", conn_id)
    started = time.monotonic()
    # a read-only task: the client refuses every write, whatever the run's dry_run
    with (
        ConfluenceHook(conn_id).get_client(dry_run=True, settings=settings) as client,
        group("Confluence reads"),
    ):
        snapshot = client.snapshot()
    uris = {
        name: storage.write_frame(run.folder, f"confluence/{name}", getattr(snapshot, name))
        for name in DIRECTORY_FRAMES
    }
    counts = {
        "users": len(snapshot.users),
        "active users": int(snapshot.users["active"].sum()),
        "groups": len(snapshot.groups),
        "memberships": len(snapshot.memberships),
    }
    log.info("Read %s from Confluence in %.1f s", counts_text(counts), time.monotonic() - started)
    return {"uris": uris, "counts": counts}


def map_rules(run: RunContext, idp: dict[str, Any], confluence: dict[str, Any]) -> dict[str, Any]:
    log.info(
        "Mapping the directory to Confluence users, groups and memberships (rules %s)", run.params.rules_file
    )
    started = time.monotonic()
    directory = IdpSnapshot(
        **{name: storage.read_frame(idp["uris"][name], schema) for name, schema in DIRECTORY_FRAMES.items()},
        rejects=storage.read_frame(idp["uris"]["rejects"], frames.REJECTS),
    )
    existing_groups = storage.read_frame(confluence["uris"]["groups"], frames.GROUPS)["name"]
    result = mapping.map_rules(directory, run.settings, existing_groups=list(existing_groups))
    uris = {
        name: storage.write_frame(run.folder, f"desired/{name}", getattr(result, name))
        for name in [*DESIRED_FRAMES, "rejects"]
    }
    counts = {
        "users": len(result.users),
        "groups": len(result.groups),
        "memberships": len(result.memberships),
        "rejected entries": len(result.rejects),
    }
    log.info("The rules want %s (%.1f s)", counts_text(counts), time.monotonic() - started)
    return {"uris": uris, "counts": counts}


def plan(run: RunContext, desired: dict[str, Any], confluence: dict[str, Any]) -> dict[str, Any]:
    """The diff, guarded; its operations written as one Parquet file per apply chunk."""
    params = run.params
    log.info(
        "Planning the changes that bring Confluence to the desired state%s%s",
        f" for only_users {', '.join(params.only_users)}" if params.only_users else "",
        " (allow_over_limits: count limits are not enforced)" if params.allow_over_limits else "",
    )
    started = time.monotonic()
    wanted = mapping.MappingResult(
        **{
            name: storage.read_frame(desired["uris"][name], schema) for name, schema in DESIRED_FRAMES.items()
        },
        rejects=storage.read_frame(desired["uris"]["rejects"], frames.REJECTS),
    )
    current = ConfluenceSnapshot(
        **{
            name: storage.read_frame(confluence["uris"][name], schema)
            for name, schema in DIRECTORY_FRAMES.items()
        }
    )
    refuse_unknown_users(params.only_users, wanted.users, current.users)
    with run.audit_store() as store:
        ledger, managed = store.ledger(), store.managed_groups()
    try:
        result = planning.plan(
            wanted,
            current,
            run.settings,
            ledger=ledger,
            previously_managed_groups=managed,
            allow_over_limits=params.allow_over_limits,
            only_users=params.only_users or None,
        )
    except planning.GuardError as error:
        _write_plan_record(run, error.plan, chunks={}, violations=error.violations)
        raise AirflowFailException(str(error)) from None
    chunks = _write_chunks(run, result, run.settings.run.apply_chunk_size)
    _write_plan_record(run, result, chunks=chunks, violations=[])
    with group(f"The plan: {len(result)} operations"):
        for note in result.notes:
            log.info("note: %s", note)
        for operation in result.operations[:200]:
            log.info("%s (%s)", operation.describe(), operation.reason)
    summary = {kind: count for kind, count in result.summary().items() if count}
    log.info(
        "Planned %s in %.1f s",
        counts_text(summary) if summary else "nothing: Confluence already matches the rules",
        time.monotonic() - started,
    )
    return {"operations": len(result), "summary": summary, "chunks": chunks}


def stage_chunks(planned: dict[str, Any], stage: str) -> list[str]:
    """The chunks of one stage, for the stage's mapped apply task.

    A stage without operations gets one empty chunk, whose task skips itself at once:
    an empty expansion would be skipped too, but only on the scheduler's next pass,
    one pass per stage.
    """
    chunks = planned["chunks"][stage]
    operations = sum(planned["summary"].get(kind.value, 0) for kind in STAGE_KINDS[stage])
    log.info("Stage %s: %d operations in %d chunks", stage, operations, len(chunks))
    return chunks or [NO_CHUNK]


def apply_chunk(run: RunContext, chunk: str) -> dict[str, Any]:
    """Apply one chunk of one stage; failed operations are results, not task failures."""
    if chunk == NO_CHUNK:
        raise AirflowSkipException("nothing to apply in this stage")
    settings = run.settings
    operations = Plan.from_frame(storage.read_frame(chunk, PLAN)).operations
    name = chunk_name(chunk)
    log.info(
        "Applying %d operations (%s)%s",
        len(operations),
        name,
        " as a dry run: nothing is sent to Confluence" if run.params.dry_run else "",
    )
    started = time.monotonic()
    hook = ConfluenceHook(settings.confluence.connection_id)
    with hook.get_client(dry_run=run.params.dry_run, settings=settings) as client, group("Operations"):
        result = apply_operations(
            operations, client, settings, retry=RetryPolicy.from_settings(settings.confluence.retry)
        )
    uri = storage.write_frame(run.folder, f"results/{name}", result.results)
    log.info("%s (%.1f s)", result.summary(), time.monotonic() - started)
    return {"results": uri, "counts": result.counts()}


def chunk_name(chunk: str) -> str:
    """``add_memberships-0002``: how logs and the Airflow UI name a chunk."""
    return chunk.rsplit("/", 1)[-1].removesuffix(".parquet") or "nothing to apply"


def report(run: RunContext) -> dict[str, Any]:
    """Record the run in the audit history, write the report files, prune old run folders.

    Runs after the others whatever happened to them, so a run that failed still
    leaves a report; it then fails itself, which fails the DAG run.
    """
    log.info("Recording the run in the audit history and writing its report")
    record = _read_plan_record(run)
    results, missing_chunks = _read_results(record)
    rejects = pd.concat(
        [
            _read_if_written(run.uri(name), frames.REJECTS)
            for name in ("idp/rejects.parquet", "desired/rejects.parquet")
        ],
        ignore_index=True,
    )
    error, notes = _run_error(record, results, missing_chunks)
    status = SUCCESS if record is not None and error is None and not missing_chunks else FAILED
    ended = datetime.now(UTC)
    html_uri = run.uri(f"{REPORT_FOLDER}/report.html")
    identity = run.identity()
    with run.audit_store() as store:
        store.record_run(
            identity,
            RunOutcome(
                status=status,
                ended_at=ended,
                operations=results,
                rejects=rejects,
                error=error,
                report_uri=html_uri,
                **_history_changes(run, record, results),
            ),
        )
        recorded = store.find_run(run.dag_id, run.dag_run_id)
        trend = store.recent_runs(30, dag_id=run.dag_id)
    data = ReportData(
        dag_id=run.dag_id,
        dag_run_id=run.dag_run_id,
        rules_file=run.params.rules_file,
        dry_run=run.params.dry_run,
        status=status,
        started_at=run.started_at,
        ended_at=ended,
        results=_with_reasons(results, record),
        rejects=rejects,
        guards=_guards(run, record),
        violations=record["violations"] if record else [],
        notes=[*notes, *(record["notes"] if record else [])],
        error=recorded.error if recorded is not None else error,
        sources=_sources(run),
        trend=trend,
    )
    files = write_report(run.folder / REPORT_FOLDER, data)
    pruned = storage.prune_run_folders(
        storage.storage_base(run.settings.run.storage_base),
        run.dag_id,
        run.settings.run.keep_run_folders_days,
        ended.date(),
    )
    summary = report_summary(data)
    log.info("Run %s: %s", status, counts_text(summary["by_status"]) or "no operations")
    log.info("Report: %s", files.html)
    log.info("Operations (CSV): %s; summary (JSON): %s", files.csv, files.json)
    if pruned:
        log.info(
            "Pruned %d run folders older than %d days", len(pruned), run.settings.run.keep_run_folders_days
        )
    if status == FAILED:
        raise AirflowFailException(data.error or "the run failed in an earlier task: see that task's log")
    return summary


def asset_extra(run: RunContext, summary: dict[str, Any]) -> dict[str, Any]:
    """What the Confluence directory asset event carries; a dry run changed nothing and sends none."""
    if run.params.dry_run:
        raise AirflowSkipException("a dry run changed nothing in Confluence: the asset is not updated")
    log.info("Announcing the synced Confluence directory to the DAGs that wait for it")
    return {
        "dag_run_id": run.dag_run_id,
        "rules_file": run.params.rules_file,
        "by_status": summary["by_status"],
    }


def record_failure(context: Mapping[str, Any], rules_dir: Path) -> None:
    """The tasks' on_failure_callback: the failure and its reason go to the audit history; never raises."""
    task_id = context["ti"].task_id
    message = f"{task_id}: {context.get('exception') or 'failed'}"
    try:
        run = RunContext.from_task_context(context, rules_dir)
        try:
            conn_id = run.settings.run.audit_connection_id
        except AirflowFailException:  # a broken rules file is the failure itself: use the default store
            conn_id = RunSettings().audit_connection_id
        with AuditStore(audit_url(conn_id)) as store:
            store.record_failure(run.identity(), ended_at=datetime.now(UTC), error=message)
        log.error("Recorded in the audit history: %s", message)
    except Exception:
        log.exception("Could not record the failure of %s in the audit history", task_id)


# -- plan files -----------------------------------------------------------------------------------


def refuse_unknown_users(only_users: tuple[str, ...], desired: pd.DataFrame, current: pd.DataFrame) -> None:
    known = set(desired["username"].str.lower()) | set(current["id"].str.lower())
    unknown = sorted(set(only_users) - known)
    if unknown:
        raise AirflowFailException(
            f"only_users names {len(unknown)} users that the rules do not produce and Confluence does "
            f"not have: {', '.join(unknown)}; check the spelling (Confluence usernames, lower case)"
        )


def _write_chunks(run: RunContext, result: Plan, size: int) -> dict[str, list[str]]:
    frame = result.frame
    chunks: dict[str, list[str]] = {}
    for name, kinds in planning.STAGES:
        stage = frame[frame["kind"].isin([kind.value for kind in kinds])].reset_index(drop=True)
        task = STAGE_TASKS[name]
        chunks[task] = [
            storage.write_frame(
                run.folder, f"plan/{task}-{start // size + 1:04d}", stage.iloc[start : start + size]
            )
            for start in range(0, len(stage), size)
        ]
    return chunks


def _write_plan_record(
    run: RunContext, result: Plan, *, chunks: dict[str, list[str]], violations: list[str]
) -> None:
    """What the report needs of the plan, whether it was applied or stopped by a guard."""
    record = {
        "plan": storage.write_frame(run.folder, "plan/plan", result.frame),
        "summary": result.summary(),
        "notes": list(result.notes),
        "email_source": result.email_source,
        "violations": violations,
        "chunks": chunks,
    }
    storage.write_text(run.folder, PLAN_RECORD, json.dumps(record, indent=2))


def _read_plan_record(run: RunContext) -> dict[str, Any] | None:
    uri = run.uri(PLAN_RECORD)
    return json.loads(storage.read_text(uri)) if storage.exists(uri) else None


def _read_results(record: dict[str, Any] | None) -> tuple[pd.DataFrame, list[str]]:
    """The results of every chunk that finished, and the chunks that did not."""
    parts, missing = [frames.empty(RESULTS)], []
    for uris in (record or {}).get("chunks", {}).values():
        for chunk in uris:
            result_uri = chunk.replace("/plan/", "/results/")
            if storage.exists(result_uri):
                parts.append(storage.read_frame(result_uri, RESULTS))
            else:
                missing.append(chunk_name(chunk))
    return frames.conform(pd.concat(parts, ignore_index=True), RESULTS), missing


def _read_if_written(uri: str, schema: dict[str, str]) -> pd.DataFrame:
    return storage.read_frame(uri, schema) if storage.exists(uri) else frames.empty(schema)


def _run_error(
    record: dict[str, Any] | None, results: pd.DataFrame, missing_chunks: list[str]
) -> tuple[str | None, list[str]]:
    """The run's error (None when it did not fail, or failed in a task that records its own) and notes."""
    if record is None:
        return None, ["The run stopped before a plan was made: nothing was applied."]
    if record["violations"]:
        return "the plan breaks safety guards; nothing was applied:\n" + "\n".join(
            f"- {text}" for text in record["violations"]
        ), []
    notes = []
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


def _guards(run: RunContext, record: dict[str, Any] | None) -> list[Any]:
    if record is None:
        return []
    return outcome.guard_rows(
        record["summary"], run.settings.limits, allow_over_limits=run.params.allow_over_limits
    )


def _sources(run: RunContext) -> dict[str, int]:
    """How many users and groups each side had, from the frames the run wrote."""
    counts = {}
    for label, name in (
        ("directory users", "idp/users"),
        ("directory groups", "idp/groups"),
        ("Confluence users", "confluence/users"),
        ("Confluence groups", "confluence/groups"),
        ("desired users", "desired/users"),
        ("desired groups", "desired/groups"),
    ):
        uri = run.uri(f"{name}.parquet")
        if storage.exists(uri):
            counts[label] = storage.count_rows(uri)
    return counts
