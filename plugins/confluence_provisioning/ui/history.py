"""What the Provisioning page shows, read from the audit store and the run folders.

Plain data (dicts of JSON values) for both the JSON routes and the HTML pages;
no HTTP and no authorisation here: every function takes the DAGs the caller
may read and shows nothing of the others.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, reporting, storage
from confluence_provisioning.audit import FAILED, GROUP_OPERATIONS, AuditStore, RunRecord

PAGE_SIZE = 25
TABLE_LIMIT = 500  # rows of failures and rejects on a run's page (the report's CSV has all)
TIMELINE_LIMIT = 1000
CHART_RUNS = 30
# how many recent runs to look through for one whose folder still holds the desired state
EXPLAIN_LOOKBACK = 10
# operations whose target is a user and that add or take away one membership
ADD, REMOVE = "add_membership", "remove_membership"


@dataclass(frozen=True)
class RunFilters:
    status: str | None = None
    started_from: date | None = None
    started_to: date | None = None  # inclusive
    dag_id: str | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


def runs_page(store: AuditStore, readable: Collection[str], filters: RunFilters) -> dict[str, Any]:
    """One page of the runs table, newest first, with the filters and the page count."""
    dag_ids = set(readable) if filters.dag_id is None else set(readable) & {filters.dag_id}
    page = store.list_runs(
        dag_ids=dag_ids,
        status=filters.status,
        started_from=_day_start(filters.started_from),
        started_before=_day_start(filters.started_to + timedelta(days=1)) if filters.started_to else None,
        limit=filters.page_size,
        offset=(filters.page - 1) * filters.page_size,
    )
    rejects = store.reject_counts([run.id for run in page.runs])
    return {
        "runs": [run_summary(run, rejects.get(run.id, 0)) for run in page.runs],
        "total": page.total,
        "page": filters.page,
        "pages": max(1, math.ceil(page.total / filters.page_size)),
        "page_size": filters.page_size,
    }


def run_summary(run: RunRecord, rejects: int) -> dict[str, Any]:
    """A run as one row of the runs table."""
    return {
        "id": run.id,
        "dag_id": run.dag_id,
        "dag_run_id": run.dag_run_id,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "duration_seconds": round((run.ended_at - run.started_at).total_seconds(), 1)
        if run.ended_at
        else None,
        "rules_file": run.rules_file,
        "source": run.source,
        "target": run.target,
        "dry_run": run.dry_run,
        "status": run.status,
        "operations": run.counts,
        "total": run.total(),
        "failed": run.total(FAILED),
        "rejects": rejects,
        "error": run.error,
    }


def run_detail(store: AuditStore, run: RunRecord) -> dict[str, Any]:
    """A run: its row, its failures with reasons, its rejects, and its guards from the report's summary."""
    failures = store.operations_with_reasons(run.id, status=FAILED)
    rejects = store.rejects(run.id)
    report = _report_summary(run.report_uri)
    return {
        **run_summary(run, len(rejects)),
        "report_available": bool(run.report_uri) and storage.exists(run.report_uri),
        "failures": _records(failures.head(TABLE_LIMIT)),
        "more_failures": max(0, len(failures) - TABLE_LIMIT),
        "rejects_shown": _records(rejects.head(TABLE_LIMIT)),
        "more_rejects": max(0, len(rejects) - TABLE_LIMIT),
        "guards": report.get("guards", []),
        "violations": report.get("violations", []),
        "notes": report.get("notes", []),
        "sources": report.get("sources", {}),
    }


def report_html(run: RunRecord) -> str | None:
    """The HTML report the report task wrote, or None when it is gone (pruned) or was never written."""
    if not run.report_uri or not storage.exists(run.report_uri):
        return None
    return storage.read_text(run.report_uri)


def chart(store: AuditStore, readable: Collection[str]) -> dict[str, Any]:
    """Operations per run (failed stacked on the rest) and failures per run, oldest first."""
    runs = list(reversed(store.list_runs(dag_ids=set(readable), limit=CHART_RUNS).runs))
    most_failed = max((run.total(FAILED) for run in runs), default=0)
    return {
        "operations": reporting.trend_chart(runs),
        "failures": [
            {
                "label": f"{run.started_at:%Y-%m-%d %H:%M} {run.dag_run_id}",
                "failed": run.total(FAILED),
                "height": round(80.0 * run.total(FAILED) / most_failed, 1) if most_failed else 0.0,
            }
            for run in runs
        ],
    }


def search(store: AuditStore, text: str, readable: Collection[str]) -> dict[str, Any]:
    matches = store.find_names(text, dag_ids=set(readable))
    return {"query": text, "users": matches.users, "groups": matches.groups}


def person(store: AuditStore, username: str, readable: Collection[str]) -> dict[str, Any]:
    """A user's operations across runs, and why they are (or are not) in each group they were ever in."""
    names = {username, username.lower()}
    timeline = store.operation_history(names, dag_ids=set(readable), limit=TIMELINE_LIMIT)
    timeline = timeline[~timeline["operation"].isin(GROUP_OPERATIONS)]
    # the sync that last touched them explains them; several DAGs may sync different sites
    state = _desired_state(store, readable if timeline.empty else {timeline.iloc[0]["dag_id"]})
    return {
        "username": username,
        "pushed": _pushed(store, username, readable),
        "timeline": _records(timeline),
        "explanation": _explain_user(username.lower(), timeline, state),
    }


def group(store: AuditStore, name: str, readable: Collection[str]) -> dict[str, Any]:
    """A group's operations across runs (its own, and its memberships), and the rule that manages it."""
    timeline = store.operation_history({name}, dag_ids=set(readable), limit=TIMELINE_LIMIT)
    state = _desired_state(store, readable if timeline.empty else {timeline.iloc[0]["dag_id"]})
    return {
        "name": name,
        "managed_by_sync": name in store.managed_groups(),
        "timeline": _records(timeline),
        "explanation": _explain_group(name, state),
    }


@dataclass(frozen=True)
class DesiredState:
    """What the rules wanted in one run, from that run's folder."""

    run: RunRecord
    users: pd.DataFrame  # frames.DESIRED_USERS
    groups: pd.DataFrame  # frames.DESIRED_GROUPS
    memberships: pd.DataFrame  # frames.DESIRED_MEMBERSHIPS
    held: pd.DataFrame  # frames.HELD_USERS


DESIRED_FILES = {
    "users": frames.DESIRED_USERS,
    "groups": frames.DESIRED_GROUPS,
    "memberships": frames.DESIRED_MEMBERSHIPS,
    "held": frames.HELD_USERS,
}


def _desired_state(store: AuditStore, dag_ids: Collection[str]) -> DesiredState | None:
    """What the rules wanted in the newest real run whose folder still has it (folders are pruned).

    Dry runs are passed over: they changed nothing, so they do not explain what is in Confluence.
    """
    for run in store.list_runs(dag_ids=set(dag_ids), limit=EXPLAIN_LOOKBACK).runs:
        folder = _run_folder(run.report_uri)
        if folder is None or run.dry_run:
            continue
        uris = {name: str(folder / "desired" / f"{name}.parquet") for name in DESIRED_FILES}
        if all(storage.exists(uri) for uri in uris.values()):
            return DesiredState(
                run=run, **{name: storage.read_frame(uris[name], DESIRED_FILES[name]) for name in uris}
            )
    return None


def _explain_user(username: str, timeline: pd.DataFrame, state: DesiredState | None) -> dict[str, Any]:
    if state is None:
        return {"as_of": None, "scope": None, "held": None, "groups": []}
    users = state.users[state.users["username"].str.lower() == username]
    held = state.held[state.held["username"] == username]
    wanted = state.memberships[state.memberships["username"].str.lower() == username]
    groups = [{"group": row.group, "member": True, "why": row.rule} for row in wanted.itertuples(index=False)]
    in_groups = set(wanted["group"])
    # a group the user left: the newest membership operation on it is a removal
    membership_ops = timeline[timeline["operation"].isin([ADD, REMOVE]) & ~timeline["dry_run"]]
    for name, ops in membership_ops.groupby("group", sort=True):
        latest = ops.iloc[0]
        if name in in_groups or latest["operation"] != REMOVE:
            continue
        when = latest["started_at"].strftime("%Y-%m-%d %H:%M")
        groups.append(
            {
                "group": name,
                "member": False,
                "why": f"{_text(latest['reason']) or 'removed'} (since run {latest['dag_run_id']}, {when})",
            }
        )
    return {
        "as_of": run_summary(state.run, 0),
        "scope": users.iloc[0]["rule"] if len(users) else None,
        "held": held.iloc[0]["reason"] if len(held) else None,
        "groups": groups,
    }


def _explain_group(name: str, state: DesiredState | None) -> dict[str, Any]:
    if state is None:
        return {"as_of": None, "rule": None, "prune_members": None, "members": 0}
    found = state.groups[state.groups["name"] == name]
    return {
        "as_of": run_summary(state.run, 0),
        "rule": found.iloc[0]["rule"] if len(found) else None,
        "prune_members": bool(found.iloc[0]["prune_members"]) if len(found) else None,
        "members": int((state.memberships["group"] == name).sum()),
    }


def _pushed(store: AuditStore, username: str, readable: Collection[str]) -> dict[str, Any] | None:
    entry = store.ledger_entry(username.lower(), dag_ids=set(readable))
    if entry is None:
        return None
    return {**entry, "pushed_at": entry["pushed_at"].isoformat()}


def _report_summary(report_uri: str | None) -> dict[str, Any]:
    """The JSON summary written beside the HTML report (guards, violations, notes), or {} if gone."""
    if not report_uri:
        return {}
    uri = str(ObjectStoragePath(report_uri).parent / reporting.JSON_FILE)
    return json.loads(storage.read_text(uri)) if storage.exists(uri) else {}


def _run_folder(report_uri: str | None) -> ObjectStoragePath | None:
    """The run folder holding ``<folder>/report/report.html``."""
    return ObjectStoragePath(report_uri).parent.parent if report_uri else None


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON values: missing values as None, timestamps as ISO text."""
    return [{name: _json_value(value) for name, value in row.items()} for row in frame.to_dict("records")]


def _json_value(value: Any) -> Any:
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None
