"""Small desired and current states built from tuples, for planner tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from confluence_provisioning import frames


@dataclass(frozen=True)
class State:
    users: pd.DataFrame
    groups: pd.DataFrame
    memberships: pd.DataFrame
    held: pd.DataFrame = field(default_factory=lambda: frames.empty(frames.HELD_USERS))
    accounts: pd.DataFrame = field(default_factory=lambda: frames.empty(frames.ACCOUNTS))


def desired(
    users: list[tuple[str, str, str, bool]] = (),
    groups: list[tuple[str, bool, bool]] = (),
    memberships: list[tuple[str, str, bool]] = (),
    held: list[tuple[str, str]] = (),
) -> State:
    """users (username, display name, email, active); groups (name, managed, prune);
    memberships (group, username, new users only); held (username, reason).
    Rules are named after what they made."""
    return State(
        frames.from_records(
            [
                {
                    "username": name,
                    "display_name": display,
                    "email": email,
                    "active": active,
                    "source_id": f"id-{name}",
                    "source_dn": f"uid={name},ou=people,dc=example,dc=org",
                    "rule": "scope:all",
                }
                for name, display, email, active in users
            ],
            frames.DESIRED_USERS,
        ),
        frames.from_records(
            [
                {"name": name, "managed": managed, "prune_members": prune, "rule": f"group:{name}"}
                for name, managed, prune in groups
            ],
            frames.DESIRED_GROUPS,
        ),
        frames.from_records(
            [
                {"group": group, "username": user, "new_users_only": new_only, "rule": f"member:{group}"}
                for group, user, new_only in memberships
            ],
            frames.DESIRED_MEMBERSHIPS,
        ),
        frames.from_records([{"username": name, "reason": why} for name, why in held], frames.HELD_USERS),
    )


def current(
    users: list[tuple[str, str, str | None, bool]] = (),
    groups: list[str] = (),
    memberships: list[tuple[str, str]] = (),
) -> State:
    """users (username, display name, email or None when hidden, active); memberships (group, username)."""
    return State(
        frames.from_records(
            [
                {
                    "id": name,
                    "dn": "",
                    "login": name,
                    "email": email,
                    "display_name": display,
                    "active": active,
                }
                for name, display, email, active in users
            ],
            frames.USERS,
        ),
        frames.from_records([{"id": name, "dn": "", "name": name} for name in groups], frames.GROUPS),
        frames.from_records(
            [{"group_id": group, "user_id": user, "direct": True} for group, user in memberships],
            frames.MEMBERSHIPS,
        ),
    )


def rows(plan) -> list[tuple]:
    """A plan's operations as (kind, target, group) tuples, in plan order."""
    return [(op.kind.value, op.target, op.group) for op in plan.operations]
