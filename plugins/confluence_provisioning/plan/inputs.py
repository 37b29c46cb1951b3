"""Planner inputs made comparable: checked shapes, lower-case names, protected and held entries left out.

Confluence stores user and group names in lower case, so both sides are compared that way.
Protected users and groups, and the held users (accounts of IdP users the rules could not
name: a data problem, not a leaver), are removed here, before any diff, so no later step
can plan anything for them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.columns import isin
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.settings import Protected


class DesiredState(Protocol):
    """What the mapping produces (``mapping.MappingResult``)."""

    @property
    def users(self) -> pd.DataFrame: ...  # frames.DESIRED_USERS
    @property
    def groups(self) -> pd.DataFrame: ...  # frames.DESIRED_GROUPS
    @property
    def memberships(self) -> pd.DataFrame: ...  # frames.DESIRED_MEMBERSHIPS
    @property
    def held(self) -> pd.DataFrame: ...  # frames.HELD_USERS


class CurrentState(Protocol):
    """What the target has (``frames.TargetSnapshot``)."""

    @property
    def users(self) -> pd.DataFrame: ...  # frames.USERS
    @property
    def groups(self) -> pd.DataFrame: ...  # frames.GROUPS
    @property
    def memberships(self) -> pd.DataFrame: ...  # frames.MEMBERSHIPS
    @property
    def accounts(self) -> pd.DataFrame: ...  # frames.ACCOUNTS (empty for Data Center)


@dataclass(frozen=True)
class Inputs:
    desired_users: pd.DataFrame  # frames.DESIRED_USERS
    desired_groups: pd.DataFrame  # frames.DESIRED_GROUPS
    desired_memberships: pd.DataFrame  # frames.DESIRED_MEMBERSHIPS, one row per (group, username)
    # username, email, display_name, active, user_name_now (the target's name of an account this plan
    # renames, else <NA>: see plan.identity)
    current_users: pd.DataFrame
    current_groups: frozenset[str]
    current_memberships: pd.DataFrame  # group, username
    members_per_group: pd.Series  # group -> member count in Confluence, protected users included
    notes: list[str] = field(default_factory=list)


def prepare(desired: DesiredState, current: CurrentState, protected: Protected) -> Inputs:
    """Checked, lower-cased inputs without protected users and groups, nor held users.

    Raises ValueError when the desired frames name a user or group twice: that is a
    mapping bug, and a plan built on it would flip-flop between the two rows.
    """
    users = _lowered(frames.conform(desired.users, frames.DESIRED_USERS), "username")
    groups = _lowered(frames.conform(desired.groups, frames.DESIRED_GROUPS), "name")
    memberships = _lowered(
        frames.conform(desired.memberships, frames.DESIRED_MEMBERSHIPS), "group", "username"
    )
    _refuse_repeats(users, "username", "desired users")
    _refuse_repeats(groups, "name", "desired groups")

    protected_users = {name.lower() for name in protected.users}
    protected_groups = {name.lower() for name in protected.groups}
    notes: list[str] = []
    _note_protected(notes, "desired users", users["username"], protected_users, "protected.users")
    _note_protected(notes, "desired groups", groups["name"], protected_groups, "protected.groups")
    held = _without(
        _lowered(frames.conform(desired.held, frames.HELD_USERS), "username"), username=protected_users
    )
    left_alone = protected_users | set(held["username"])

    current_users = frames.conform(current.users, frames.USERS)
    current_users = current_users.rename(columns={"id": "username"})[
        ["username", "email", "display_name", "active"]
    ]
    current_users = _lowered(current_users, "username").assign(
        user_name_now=pd.Series(pd.NA, index=current_users.index, dtype=frames.STRING)
    )
    current_memberships = frames.conform(current.memberships, frames.MEMBERSHIPS)
    current_memberships = _lowered(
        current_memberships.rename(columns={"group_id": "group", "user_id": "username"})[
            ["group", "username"]
        ],
        "group",
        "username",
    ).drop_duplicates(ignore_index=True)
    current_groups = frames.conform(current.groups, frames.GROUPS)["name"].str.lower()
    _note_held(notes, held, current_users["username"])

    return Inputs(
        desired_users=_without(users, username=left_alone),
        desired_groups=_without(groups, name=protected_groups),
        desired_memberships=_deduplicated(_without(memberships, group=protected_groups, username=left_alone)),
        current_users=_without(current_users, username=left_alone),
        current_groups=frozenset(current_groups) - protected_groups,
        current_memberships=_without(current_memberships, group=protected_groups, username=left_alone),
        members_per_group=current_memberships["group"].value_counts(),
        notes=notes,
    )


def _lowered(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{column: frame[column].str.lower() for column in columns})


def _refuse_repeats(frame: pd.DataFrame, column: str, what: str) -> None:
    repeated = frame.loc[frame[column].duplicated(), column].unique()
    if len(repeated):
        names = ", ".join(sorted(repeated)[:10])
        raise ValueError(
            f"{what} name {len(repeated)} {column}s more than once ({names}); "
            f"the mapping must give each one a single row"
        )


def _note_protected(
    notes: list[str], what: str, names: pd.Series, protected: Collection[str], key: str
) -> None:
    hits = sorted(set(names) & set(protected))
    if hits:
        notes.append(f"{what} include protected names left out of the plan ({key}): {', '.join(hits)}")


def _note_held(notes: list[str], held: pd.DataFrame, current_users: pd.Series) -> None:
    """Only held users Confluence has: for the others there is nothing to leave alone."""
    present = held[isin(held["username"], current_users)]
    if len(present):
        listed = present["username"] + " (" + present["reason"] + ")"
        notes.append(
            f"held {len(present)} Confluence users the rules could not map, left as they are "
            f"(no update, disable, delete or membership change; see the rejects): {first_names(listed)}"
        )


def _without(frame: pd.DataFrame, **excluded: Collection[str]) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for column, names in excluded.items():
        if names:
            keep &= ~isin(frame[column], names)
    return frame[keep].reset_index(drop=True)


def _deduplicated(memberships: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, username); a rule that always adds wins over a new-users-only one."""
    ordered = memberships.sort_values("new_users_only", kind="stable")
    return ordered.drop_duplicates(["group", "username"]).sort_index().reset_index(drop=True)
