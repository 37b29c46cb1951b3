"""A populated history: three runs of two DAGs in the audit store, with their run folders.

Written with the real writers (``AuditStore.record_run``, ``reporting.write_report``,
``storage.write_frame``), as the report task leaves them. The story:

- run 1 (real, success): creates engineering; creates alice and bob; alice into engineering,
  bob into qa.
- run 2 (real, failed): alice moves from engineering to qa; creating carol fails; dave is held
  (email collision with bob).
- run 3 (another DAG, a dry run): would add erin to sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, storage
from confluence_provisioning.audit import FAILED, REASONED, SUCCESS, AuditStore, RunIdentity, RunOutcome
from confluence_provisioning.reporting import GuardRow, ReportData, write_report

DAG_ID = "confluence_provisioning"
OTHER_DAG_ID = "cloud_provisioning"
RUN_1 = "scheduled__2026-11-30T02:00:00+00:00"
RUN_2 = "scheduled__2026-12-01T02:00:00+00:00"
RUN_3 = "manual__2026-12-01T03:00:00+00:00"
ENGINEERING_IN = "rule manual mapping from 'engineering': alice belongs in engineering"
ENGINEERING_OUT = (
    "engineering prunes members (rule manual mapping from 'engineering') and no rule puts alice in it"
)
QA_IN = "rule manual mapping from 'qa': alice belongs in qa"
CAROL_ERROR = "email: not a valid address"
DAVE_HELD = "email collision with bob"
SOURCE, TARGET = "ldap (ldap_default)", "confluence_data_center (confluence_default)"


def operations(*rows: tuple) -> pd.DataFrame:
    """(operation, target, group, status, error, reason) rows as the report task records them."""
    records = [
        {
            "operation": operation,
            "target": target,
            "group": group,
            "status": status,
            "http_status": 400 if status == FAILED else 204,
            "attempts": 1,
            "duration_ms": 5.0,
            "error": error,
            "reason": reason,
        }
        for operation, target, group, status, error, reason in rows
    ]
    return frames.conform(pd.DataFrame(records, columns=list(REASONED)), REASONED)


def rejects(*reasons: str) -> pd.DataFrame:
    return frames.from_records(
        [
            {
                "source": "idp",
                "kind": "user",
                "dn": f"uid=x{n},ou=people,dc=example,dc=org",
                "id": None,
                "reason": r,
            }
            for n, r in enumerate(reasons)
        ],
        frames.REJECTS,
    )


@dataclass
class HistorySite:
    store: AuditStore
    runs_base: Path
    ids: dict[str, int]


def populate(store: AuditStore, runs_base: Path) -> HistorySite:
    ids = {}
    started = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    ids[RUN_1] = _record(
        store,
        runs_base,
        DAG_ID,
        RUN_1,
        started,
        dry_run=False,
        status=SUCCESS,
        ops=operations(
            (
                "create_group",
                "engineering",
                None,
                "applied",
                None,
                "rule manual mapping from 'engineering': the group is not in Confluence",
            ),
            ("create_user", "alice", None, "applied", None, "new in the directory"),
            ("create_user", "bob", None, "applied", None, "new in the directory"),
            ("add_membership", "alice", "engineering", "applied", None, ENGINEERING_IN),
            (
                "add_membership",
                "bob",
                "qa",
                "applied",
                None,
                "rule manual mapping from 'qa': bob belongs in qa",
            ),
        ),
        rejected=rejects("no mail attribute"),
        memberships=[
            ("engineering", "alice", "manual mapping from 'engineering'"),
            ("qa", "bob", "manual mapping from 'qa'"),
        ],
        held=[],
    )
    ids[RUN_2] = _record(
        store,
        runs_base,
        DAG_ID,
        RUN_2,
        started + timedelta(days=1),
        dry_run=False,
        status=FAILED,
        ops=operations(
            ("create_user", "carol", None, FAILED, CAROL_ERROR, "new in the directory"),
            ("add_membership", "alice", "qa", "applied", None, QA_IN),
            ("remove_membership", "alice", "engineering", "applied", None, ENGINEERING_OUT),
        ),
        rejected=rejects("no mail attribute", "two entries with the login dave"),
        memberships=[("qa", "alice", "manual mapping from 'qa'"), ("qa", "bob", "manual mapping from 'qa'")],
        held=[("dave", DAVE_HELD)],
        error="1 operation failed: create user carol",
    )
    ids[RUN_3] = _record(
        store,
        runs_base,
        OTHER_DAG_ID,
        RUN_3,
        started + timedelta(days=1, hours=1),
        dry_run=True,
        status=SUCCESS,
        ops=operations(
            (
                "add_membership",
                "erin",
                "sales",
                "dry_run",
                None,
                "rule on-the-fly from 'Sales': erin belongs in sales",
            )
        ),
        rejected=rejects(),
        memberships=[("sales", "erin", "on-the-fly from 'Sales'")],
        held=[],
    )
    return HistorySite(store, runs_base, ids)


def _record(
    store: AuditStore,
    runs_base: Path,
    dag_id: str,
    dag_run_id: str,
    started: datetime,
    *,
    dry_run: bool,
    status: str,
    ops: pd.DataFrame,
    rejected: pd.DataFrame,
    memberships: list[tuple[str, str, str]],
    held: list[tuple[str, str]],
    error: str | None = None,
) -> int:
    folder = storage.run_folder(ObjectStoragePath(f"file://{runs_base}"), dag_id, dag_run_id, started)
    users = sorted({username for _, username, _ in memberships})
    storage.write_frame(
        folder,
        "desired/users",
        frames.from_records(
            [
                {
                    "username": name,
                    "display_name": name.title(),
                    "email": f"{name}@example.org",
                    "active": True,
                    "source_id": name,
                    "source_dn": f"uid={name},ou=people,dc=example,dc=org",
                    "rule": "in users.include",
                }
                for name in users
            ],
            frames.DESIRED_USERS,
        ),
    )
    groups = sorted({group for group, _, _ in memberships})
    storage.write_frame(
        folder,
        "desired/groups",
        frames.from_records(
            [
                {
                    "name": name,
                    "managed": True,
                    "prune_members": name == "engineering",
                    "rule": f"manual mapping from '{name}'",
                }
                for name in groups
            ],
            frames.DESIRED_GROUPS,
        ),
    )
    storage.write_frame(
        folder,
        "desired/memberships",
        frames.from_records(
            [{"group": g, "username": u, "new_users_only": False, "rule": r} for g, u, r in memberships],
            frames.DESIRED_MEMBERSHIPS,
        ),
    )
    storage.write_frame(
        folder,
        "desired/held",
        frames.from_records([{"username": u, "reason": r} for u, r in held], frames.HELD_USERS),
    )
    ended = started + timedelta(seconds=42)
    files = write_report(
        folder / "report",
        ReportData(
            dag_id=dag_id,
            dag_run_id=dag_run_id,
            rules_file="default.yaml",
            dry_run=dry_run,
            status=status,
            started_at=started,
            ended_at=ended,
            results=ops,
            rejects=rejected,
            guards=[
                GuardRow(
                    "memberships removed",
                    str((ops["operation"] == "remove_membership").sum()),
                    "500",
                    "within the limit",
                )
            ],
            error=error,
        ),
    )
    identity = RunIdentity(dag_id, dag_run_id, started, "default.yaml", "a" * 64, dry_run, SOURCE, TARGET)
    return store.record_run(
        identity,
        RunOutcome(
            status=status,
            ended_at=ended,
            operations=ops,
            rejects=rejected,
            error=error,
            report_uri=files.html,
            pushed=None
            if dry_run
            else frames.conform(
                pd.DataFrame(
                    {
                        "username": users,
                        "email": [f"{u}@example.org" for u in users],
                        "display_name": [u.title() for u in users],
                    }
                ),
                {"username": frames.STRING, "email": frames.STRING, "display_name": frames.STRING},
            ),
            groups_now_managed=frozenset(g for g in groups if g == "engineering"),
        ),
    )
