"""The mapping stage: ``map_rules`` turns the IdP frames into the desired state, ``hold`` takes users out."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.mapping.groups import map_groups
from confluence_provisioning.mapping.users import map_users

if TYPE_CHECKING:
    from confluence_provisioning.settings import Settings


class IdpFrames(Protocol):
    """What the IdP extraction gives (``idp.snapshot.SourceSnapshot``): frames.USERS/GROUPS/MEMBERSHIPS."""

    @property
    def users(self) -> pd.DataFrame: ...
    @property
    def groups(self) -> pd.DataFrame: ...
    @property
    def memberships(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class MappingResult:
    """The desired state (frames.DESIRED_USERS/GROUPS/MEMBERSHIPS) and what was left out (frames.REJECTS).

    ``held`` (frames.HELD_USERS): the usernames of active users left out, whose Confluence
    accounts a plan leaves as they are (see mapping.users).
    """

    users: pd.DataFrame
    groups: pd.DataFrame
    memberships: pd.DataFrame
    rejects: pd.DataFrame
    held: pd.DataFrame


def map_rules(
    idp: IdpFrames, settings: Settings, existing_groups: Collection[str] | None = None
) -> MappingResult:
    """The desired Confluence state the rules make of the IdP frames.

    ``existing_groups`` (Confluence's group names) matters only for
    ``groups.on_the_fly.create_missing: false``; None takes every group to exist.
    """
    users = frames.conform(idp.users, frames.USERS)
    groups = frames.conform(idp.groups, frames.GROUPS)
    memberships = frames.conform(idp.memberships, frames.MEMBERSHIPS)
    desired_users, user_rejects, held = map_users(
        users,
        groups,
        memberships,
        settings.users,
        settings.protected,
        username_is_email=settings.target.username_is_email,
    )
    desired_groups, desired_memberships, group_rejects = map_groups(
        groups, memberships, desired_users, settings.groups, settings.protected, existing_groups
    )
    rejects = pd.concat([user_rejects, group_rejects], ignore_index=True)
    return MappingResult(
        users=_sorted(desired_users, frames.DESIRED_USERS, ["username"]),
        groups=_sorted(desired_groups, frames.DESIRED_GROUPS, ["name"]),
        memberships=_sorted(desired_memberships, frames.DESIRED_MEMBERSHIPS, ["group", "username"]),
        rejects=_sorted(rejects, frames.REJECTS, list(frames.REJECTS)),
        held=_sorted(held, frames.HELD_USERS, ["username"]),
    )


def hold(result: MappingResult, usernames: Collection[str], reason: str) -> MappingResult:
    """``result`` with these users (lower-case names) taken out of the desired state and held:
    a plan then sends nothing for them, memberships included."""
    wanted = set(usernames)
    out = result.users["username"].str.lower().isin(wanted)
    if not out.any():
        return result
    held = pd.DataFrame({"username": result.users.loc[out, "username"].str.lower(), "reason": reason})
    return MappingResult(
        users=result.users[~out].reset_index(drop=True),
        groups=result.groups,
        memberships=result.memberships[~result.memberships["username"].str.lower().isin(wanted)].reset_index(
            drop=True
        ),
        rejects=result.rejects,
        held=_sorted(pd.concat([result.held, held], ignore_index=True), frames.HELD_USERS, ["username"]),
    )


def _sorted(frame: pd.DataFrame, schema: dict[str, str], keys: list[str]) -> pd.DataFrame:
    conformed = frames.conform(frame, schema)
    return conformed.sort_values(keys, ignore_index=True)
