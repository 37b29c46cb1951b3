"""The group diff: create managed groups, add and prune memberships, delete groups no longer made.

A pruned group (``prune_members``) ends the run holding exactly the members the rules put
there: every other member is removed, whether the account stays active, is disabled in this
run or was disabled before (protected and held users are never in the inputs; a deleted
account's memberships go with it). Members are
added only for accounts active after the plan, so a disabled account is never added, but keeps
the memberships the rules still give it.

Memberships are compared as whole frames (anti-joins), never row by row: a site has
millions of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.columns import isin
from confluence_provisioning.plan.inputs import Inputs
from confluence_provisioning.plan.operations import OperationKind, operations_frame
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.plan.users import UserPlan


@dataclass(frozen=True)
class GroupPlan:
    operations: list[pd.DataFrame]
    notes: list[str]


def plan_groups(
    inputs: Inputs,
    users: UserPlan,
    *,
    previously_managed: Collection[str] | None,
    max_group_deletions: int,
    delete_groups: bool = True,
) -> GroupPlan:
    """``delete_groups``: whether the target can delete groups (else none is deleted, with a note)."""
    groups = inputs.desired_groups
    managed = groups[groups["managed"]]
    notes: list[str] = []

    missing = managed[~isin(managed["name"], inputs.current_groups)]
    parts = [
        operations_frame(
            OperationKind.create_group,
            missing["name"],
            "rule " + missing["rule"] + ": the group is not in Confluence",
        )
    ]

    desired = inputs.desired_memberships
    in_managed = isin(desired["group"], managed["name"])
    if not in_managed.all():
        left_out = desired.loc[~in_managed, "group"].drop_duplicates().sort_values()
        notes.append(
            f"{int((~in_managed).sum())} desired memberships name groups the rules do not manage, "
            f"left out: {first_names(left_out)}"
        )
    desired = desired[in_managed]
    parts.append(_additions(desired, inputs.current_memberships, users))
    parts.append(_removals(desired, inputs.current_memberships, managed, users.deleted))
    kept_because = "limits.max_group_deletions is 0" if delete_groups else "the target cannot delete groups"
    limit = max_group_deletions if delete_groups else 0
    parts.append(_deletions(inputs, previously_managed, limit, kept_because, notes))
    return GroupPlan(parts, notes)


def _additions(desired: pd.DataFrame, current: pd.DataFrame, users: UserPlan) -> pd.DataFrame:
    """Desired memberships missing in Confluence, for accounts active after the plan."""
    eligible = isin(desired["username"], users.active_after) & (
        ~desired["new_users_only"] | isin(desired["username"], users.created)
    )
    wanted = _absent_from(desired[eligible], current)
    note = pd.Series(" (new users only)", index=wanted.index, dtype=frames.STRING).where(
        wanted["new_users_only"], ""
    )
    return operations_frame(
        OperationKind.add_membership,
        wanted["username"],
        "rule " + wanted["rule"] + note + ": " + wanted["username"] + " belongs in " + wanted["group"],
        groups=wanted["group"],
    )


def _removals(
    desired: pd.DataFrame, current: pd.DataFrame, managed: pd.DataFrame, deleted: frozenset[str]
) -> pd.DataFrame:
    """Members of pruned groups that no rule produces (any desired row keeps a member).

    Users the plan deletes are left out: their memberships go with the account.
    """
    pruned = managed[managed["prune_members"]]
    candidates = current[isin(current["group"], pruned["name"]) & ~isin(current["username"], deleted)]
    unwanted = _absent_from(candidates, desired)
    group_rule = unwanted["group"].map(pruned.set_index("name")["rule"]).astype(frames.STRING)
    return operations_frame(
        OperationKind.remove_membership,
        unwanted["username"],
        "group "
        + unwanted["group"]
        + " prunes members (rule "
        + group_rule
        + ") and no rule puts "
        + unwanted["username"]
        + " in it",
        groups=unwanted["group"],
    )


def _deletions(
    inputs: Inputs,
    previously_managed: Collection[str] | None,
    limit: int,
    kept_because: str,
    notes: list[str],
) -> pd.DataFrame:
    """Groups managed before that no rule produces now; only when the rules allow deletions."""
    before = {name.lower() for name in previously_managed or ()}
    stale = sorted((before - set(inputs.desired_groups["name"])) & inputs.current_groups)
    if stale and limit == 0:
        notes.append(
            f"{len(stale)} groups were managed before and no rule produces them now; "
            f"they are kept because {kept_because}: {first_names(stale)}"
        )
        stale = []
    return operations_frame(
        OperationKind.delete_group,
        stale,
        [f"managed before, no rule produces it now (limits.max_group_deletions: {limit})"] * len(stale),
    )


def _absent_from(rows: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """``rows`` whose (group, username) pair is not in ``other``."""
    joined = rows.merge(
        other[["group", "username"]].drop_duplicates(), on=["group", "username"], how="left", indicator=True
    )
    return joined[joined["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
