"""What a run's results mean for the history: status, attributes pushed, groups created or deleted, guards.

Pure functions of the plan frame and the apply results (no I/O, no Airflow).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.apply.actions import ALREADY_TRUE, APPLIED
from confluence_provisioning.apply.applier import FAILED, NOT_ATTEMPTED
from confluence_provisioning.plan.operations import OperationKind
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.reporting import GuardRow
from confluence_provisioning.settings import Limits

PUSHED = {"username": frames.STRING, "email": frames.STRING, "display_name": frames.STRING}
_PROFILE_KINDS = [OperationKind.create_user.value, OperationKind.update_user.value]


def pushed_profiles(desired_users: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The email and display name now in Confluence for every user this run created or updated.

    Taken from the desired users, not from the operations: an update sends only what changed,
    but once applied the whole profile is the desired one.
    """
    sent = results.loc[results["operation"].isin(_PROFILE_KINDS) & (results["status"] == APPLIED), "target"]
    users = desired_users.assign(username=desired_users["username"].str.lower())
    pushed = users[users["username"].isin(set(sent))][["username", "email", "display_name"]]
    return frames.conform(pushed.drop_duplicates("username"), PUSHED)


def created_groups(results: pd.DataFrame) -> frozenset[str]:
    """Groups this run created: only those may later be deleted as no longer produced."""
    done = results[
        (results["operation"] == OperationKind.create_group.value) & (results["status"] == APPLIED)
    ]
    return frozenset(done["target"])


def deleted_groups(results: pd.DataFrame) -> frozenset[str]:
    done = results[
        (results["operation"] == OperationKind.delete_group.value)
        & results["status"].isin([APPLIED, ALREADY_TRUE])
    ]
    return frozenset(done["target"])


def failure_message(results: pd.DataFrame) -> str | None:
    """``3 operations failed: create user bob, ...`` (and those not attempted), or None when none."""
    parts = []
    for status, verb in ((FAILED, "failed"), (NOT_ATTEMPTED, "not attempted (Confluence unavailable)")):
        rows = results[results["status"] == status]
        if rows.empty:
            continue
        described = [
            f"{kind.replace('_', ' ')} {target}" + (f" -> {group}" if isinstance(group, str) else "")
            for kind, target, group in rows[["operation", "target", "group"]].itertuples(index=False)
        ]
        parts.append(f"{len(rows)} operation{'s' if len(rows) > 1 else ''} {verb}: {first_names(described)}")
    return "; ".join(parts) or None


def guard_rows(summary: dict[str, int], limits: Limits, *, allow_over_limits: bool) -> list[GuardRow]:
    """The count guards with what the plan had; the percent and emptied-group guards are the planner's."""
    checks: Sequence[tuple[str, int, int, str]] = (
        (
            "users disabled or deleted",
            summary.get(OperationKind.disable_user.value, 0)
            + summary.get(OperationKind.delete_user.value, 0),
            limits.max_users_disabled_or_deleted,
            f"{limits.max_users_disabled_or_deleted} and {limits.max_users_disabled_or_deleted_percent:g}% "
            "of Confluence users",
        ),
        (
            "memberships removed",
            summary.get(OperationKind.remove_membership.value, 0),
            limits.max_membership_removals,
            str(limits.max_membership_removals),
        ),
        (
            "groups deleted",
            summary.get(OperationKind.delete_group.value, 0),
            limits.max_group_deletions,
            str(limits.max_group_deletions),
        ),
    )
    rows = []
    for guard, planned, limit, limit_text in checks:
        if allow_over_limits:
            outcome = "not enforced (allow_over_limits)"
        else:
            outcome = "over the limit" if planned > limit else "within the limit"
        rows.append(GuardRow(guard, planned, limit_text, outcome))
    return rows
