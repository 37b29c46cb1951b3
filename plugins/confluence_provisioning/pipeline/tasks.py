"""The body of each DAG task but the report (``recording``). The DAG file wires these; they decide.

Tasks hand each other only URIs of Parquet files in the run folder and small
summaries. Each task logs one line of what it will do first and a summary
(counts, time) last. What must not be retried (a broken rules file, a broken
guard, a bad param) raises ``AirflowFailException``; anything else may be
retried by Airflow, which is safe: every task rewrites its own files, and
applying is idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from confluence_provisioning import frames, storage
from confluence_provisioning.apply.applier import NOT_ATTEMPTED, RESULTS
from confluence_provisioning.audit import AuditStore, audit_url
from confluence_provisioning.frames import SourceSnapshot, TargetSnapshot
from confluence_provisioning.mapping import stage as mapping
from confluence_provisioning.pipeline import lease, pending
from confluence_provisioning.pipeline.approval import FIRST_CHANGES, approval_reasons, require_approval
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.pipeline.plan_files import (
    RESULTS_FOLDER,
    chunk_name,
    read_not_created,
    read_plan_record,
    results_uri,
    write_chunks,
    write_not_created,
    write_plan_record,
)
from confluence_provisioning.pipeline.tasklog import counts_text, group
from confluence_provisioning.plan import planner
from confluence_provisioning.plan.operations import PLAN, Plan
from confluence_provisioning.printable import printable_logger
from confluence_provisioning.settings import ApprovalMode, RunSettings
from confluence_provisioning.sources import SourceContext, read_source
from confluence_provisioning.sources.incremental import SourceStates
from confluence_provisioning.targets import capabilities_of, open_target, site_of

log = printable_logger("confluence_provisioning.pipeline")

DIRECTORY_FRAMES = {"users": frames.USERS, "groups": frames.GROUPS, "memberships": frames.MEMBERSHIPS}
TARGET_FRAMES = {**DIRECTORY_FRAMES, "accounts": frames.ACCOUNTS}
DESIRED_FRAMES = {
    "users": frames.DESIRED_USERS,
    "groups": frames.DESIRED_GROUPS,
    "memberships": frames.DESIRED_MEMBERSHIPS,
    "held": frames.HELD_USERS,
}
CHANGES_FILE = "plan/changes.txt"  # every planned change with its reason, one a line


def extract_source(run: RunContext) -> dict[str, Any]:
    source = run.settings.source
    log.info(
        "Reading users and groups from the %s source (connection %s, rules %s)",
        source.kind,
        source.connection_id,
        run.params.rules_file,
    )
    started = time.monotonic()
    with run.audit_store() as audit, group(f"{source.kind} reads"):
        states = SourceStates(audit, storage.storage_base(run.settings.run.storage_base))
        snapshot = read_source(source, SourceContext(full_read=run.params.full_read, states=states))
    uris = {
        name: storage.write_frame(run.folder, f"source/{name}", getattr(snapshot, name))
        for name in [*DIRECTORY_FRAMES, "rejects"]
    }
    counts = {
        "users": len(snapshot.users),
        "active users": int(snapshot.users["active"].sum()),
        "groups": len(snapshot.groups),
        "memberships": len(snapshot.memberships),
        "rejected entries": len(snapshot.rejects),
    }
    log.info("Read %s from the source in %.1f s", counts_text(counts), time.monotonic() - started)
    return {"uris": uris, "counts": counts}


def extract_target(run: RunContext) -> dict[str, Any]:
    target = run.settings.target
    log.info(
        "Reading users, groups and memberships from %s (connection %s)", target.kind, target.connection_id
    )
    started = time.monotonic()
    # a read-only task: the client refuses every write, whatever the run's dry_run
    with open_target(run.settings, dry_run=True) as site, group("Target reads"):
        snapshot = site.read()
    uris = {
        name: storage.write_frame(run.folder, f"target/{name}", getattr(snapshot, name))
        for name in TARGET_FRAMES
    }
    counts = {
        "users": len(snapshot.users),
        "active users": int(snapshot.users["active"].sum()),
        "groups": len(snapshot.groups),
        "memberships": len(snapshot.memberships),
    }
    log.info("Read %s from the target in %.1f s", counts_text(counts), time.monotonic() - started)
    return {"uris": uris, "counts": counts}


def map_rules(run: RunContext, source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    log.info(
        "Mapping the directory to Confluence users, groups and memberships (rules %s)", run.params.rules_file
    )
    started = time.monotonic()
    directory = SourceSnapshot(
        **{
            name: storage.read_frame(source["uris"][name], schema)
            for name, schema in DIRECTORY_FRAMES.items()
        },
        rejects=storage.read_frame(source["uris"]["rejects"], frames.REJECTS),
    )
    existing_groups = storage.read_frame(target["uris"]["groups"], frames.GROUPS)["name"]
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


def plan(run: RunContext, desired: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """The diff, guarded, with its operations written as one Parquet file per apply chunk.

    Returns the operation counts, each stage's chunks and whether the plan waits for approval
    (``approval``): a plan that breaks a guard fails here unless ``run.approval`` lets a
    person approve it, and never on a dry run.
    """
    params, settings = run.params, run.settings
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
    current = TargetSnapshot(
        **{name: storage.read_frame(target["uris"][name], schema) for name, schema in TARGET_FRAMES.items()}
    )
    refuse_unknown_users(params.only_users, wanted.users, current.users)
    capabilities = capabilities_of(settings.target.kind)
    # where accounts carry IdP ids, the links earlier plans made count too (plan.identity)
    site = site_of(settings) if capabilities.matches_users_by_idp_id else None
    lease.take(run)  # before any chunk is written: one run at a time writes to a site
    with run.audit_store() as store:
        # runs the store missed first: their ledger and managed groups count for this plan
        backfilled = pending.backfill(store, storage.storage_base(run.settings.run.storage_base), run.dag_id)
        ledger, managed = store.ledger(), store.managed_groups()
        refused = store.refused_domains() if run.settings.target.username_is_email else frozenset()
        first_contact = not store.has_applied_run()
        links = store.account_links(site) if site is not None else {}
    violations: list[str] = []
    if backfilled:
        log.info(
            "Back-filled %d earlier runs into the audit history: %s", len(backfilled), ", ".join(backfilled)
        )
    if refused:
        # an email refused for its domain is not sent again until it changes: runs stay quiet
        wanted = mapping.hold(wanted, refused, "the site refused the email's domain in an earlier run")
    try:
        result = planner.plan(
            wanted,
            current,
            settings,
            capabilities=capabilities,
            ledger=ledger,
            previously_managed_groups=managed,
            account_links=links,
            allow_over_limits=params.allow_over_limits,
            only_users=params.only_users or None,
        )
    except planner.GuardError as error:
        _keep_links(run, site, error.plan)
        if params.dry_run or settings.run.approval == ApprovalMode.never:
            write_plan_record(run, error.plan, chunks={}, violations=error.violations)
            raise AirflowFailException(str(error)) from None
        result, violations = error.plan, error.violations
    else:
        _keep_links(run, site, result)
    reasons = approval_reasons(
        settings.run.approval,
        dry_run=params.dry_run,
        operations=len(result),
        first_contact=first_contact,
        violations=violations,
    )
    changes = [f"{operation.describe()} ({operation.reason})" for operation in result.operations]
    changes_uri = storage.write_text(run.folder, CHANGES_FILE, "".join(f"{line}\n" for line in changes))
    chunks = write_chunks(run, result, settings.run.apply_chunk_size)
    write_plan_record(
        run,
        result,
        chunks=chunks,
        violations=violations,
        approval={"reasons": reasons, "first_changes": changes[:FIRST_CHANGES], "changes": changes_uri},
    )
    _log_plan(run, result.notes, changes, changes_uri)
    summary = {kind: count for kind, count in result.summary().items() if count}
    log.info(
        "Planned %s in %.1f s",
        counts_text(summary) if summary else "nothing: Confluence already matches the rules",
        time.monotonic() - started,
    )
    for reason in reasons:
        log.info("This plan waits for approval: %s", reason)
    return {"operations": len(result), "summary": summary, "chunks": chunks, "approval": bool(reasons)}


def _keep_links(run: RunContext, site: str | None, result: Plan) -> None:
    """The accounts the plan matched by username, linked to their IdP id for the next runs: a fact
    about the site, true whether or not the plan is applied (a dry run keeps them too)."""
    if site is None or result.links.empty:
        return
    with run.audit_store() as store:
        store.link_accounts(site, dict(zip(result.links["account_id"], result.links["idp_id"], strict=True)))
    log.info("Linked %d accounts matched by username to their IdP id", len(result.links))


def _log_plan(run: RunContext, notes: tuple[str, ...], changes: list[str], changes_uri: str) -> None:
    """Every change up to ``run.log_changes``, then where the rest are."""
    cap = run.settings.run.log_changes
    with group(f"The plan: {len(changes)} operations"):
        for note in notes:
            log.info("note: %s", note)
        for change in changes[:cap]:
            log.info("%s", change)
        if len(changes) > cap:
            log.info(
                "... and %d more: every change is in %s, and the run's report will be at %s",
                len(changes) - cap,
                changes_uri,
                run.uri("report/report.html"),
            )


def apply_stage(run: RunContext, stage: str) -> dict[str, dict[str, int]]:
    """Apply one stage's chunks in order; returns operation -> status -> count.

    A retried task resumes at the first chunk without results: the chunks before it were
    applied by an earlier try (applying them again would be idempotent, only slower).
    """
    record = read_plan_record(run)
    if record is None:
        raise AirflowFailException("the plan task left no plan in the run folder: nothing was written")
    require_approval(run, record)
    if not record["chunks"][stage]:
        # plan skips such a stage, unless an earlier stage runs: Airflow never skips what follows it
        raise AirflowSkipException("no operations in this stage")
    counts: dict[str, dict[str, int]] = {}
    accounts = read_accounts(run)  # once for the stage's chunks
    for chunk in record["chunks"][stage]:
        if _applied(chunk):
            log.info("%s was applied by an earlier try of this task", chunk_name(chunk))
            continue
        for operation, by_status in apply_chunk(run, chunk, accounts).items():
            for status, count in by_status.items():
                counts.setdefault(operation, {}).setdefault(status, 0)
                counts[operation][status] += count
    return counts


def _applied(chunk: str) -> bool:
    """Whether an earlier try applied the chunk: its results exist, none "not attempted" (breaker)."""
    uri = results_uri(chunk)
    if not storage.exists(uri):
        return False
    return not (storage.read_frame(uri, RESULTS)["status"] == NOT_ATTEMPTED).any()


def apply_chunk(
    run: RunContext, chunk: str, accounts: Mapping[str, str] | None = None
) -> dict[str, dict[str, int]]:
    """Apply one chunk of one stage; failed operations are results, not task failures.

    Users and groups an earlier stage failed or skipped to create get no operations here
    (they are skipped, with the cause). When Confluence is unavailable (the circuit
    breaker opened), the results are written and the task fails, for Airflow to retry.
    """
    settings = run.settings
    operations = Plan.from_frame(storage.read_frame(chunk, PLAN)).operations
    missing = read_not_created(read_plan_record(run), chunk)
    name = chunk_name(chunk)
    log.info(
        "Applying %d operations (%s)%s",
        len(operations),
        name,
        " as a dry run: nothing is sent to Confluence" if run.params.dry_run else "",
    )
    started = time.monotonic()
    with (
        lease.renewed(run),
        open_target(settings, dry_run=run.params.dry_run) as site,
        group("Operations"),
    ):
        known = read_accounts(run) if accounts is None else accounts  # apply_stage reads them once
        result = site.apply(operations, not_created=missing, accounts=known)
    storage.write_frame(run.folder, f"{RESULTS_FOLDER}/{name}", result.results)
    write_not_created(chunk, result.results)
    log.info("%s (%.1f s)", result.summary(), time.monotonic() - started)
    if result.unavailable is not None:
        left = int((result.results["status"] == NOT_ATTEMPTED).sum())
        raise AirflowException(
            f"{result.unavailable}. Stopped sending: {left} of {len(operations)} operations of {name} "
            "were not attempted. Airflow retries this task later; applying again is safe."
        )
    return result.counts()


def read_accounts(run: RunContext) -> dict[str, str]:
    """The target's ids of the accounts ``extract_target`` read (user_id -> account_id): a target that
    addresses accounts by id then reads none of them again (Atlassian Cloud: a filtered GET each)."""
    uri = run.uri("target/accounts.parquet")
    if not storage.exists(uri):
        return {}
    accounts = storage.read_frame(uri, frames.ACCOUNTS)
    return dict(zip(accounts["user_id"], accounts["account_id"], strict=True))


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


def refuse_unknown_users(only_users: tuple[str, ...], desired: pd.DataFrame, current: pd.DataFrame) -> None:
    known = set(desired["username"].str.lower()) | set(current["id"].str.lower())
    unknown = sorted(set(only_users) - known)
    if unknown:
        raise AirflowFailException(
            f"only_users names {len(unknown)} users that the rules do not produce and Confluence does "
            f"not have: {', '.join(unknown)}; check the spelling (Confluence usernames, lower case)"
        )
