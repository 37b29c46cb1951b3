"""The tenant as read: users, groups and each group's members, and the frames made from them.

A full read and an incremental one both end here, in a ``Tenant``, and ``snapshot`` turns it into
the shared frames; so the two kinds of read give the same frames for the same tenant. Between
runs a tenant is kept as three tables (``to_state``/``from_state``): users (id, their properties
as JSON), groups (id, name) and members (group id, member id, member kind).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa

from confluence_provisioning import frames
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.settings import EntraSourceSettings
from confluence_provisioning.sources.entra.errors import EntraReadError
from confluence_provisioning.sources.incremental import SourceState
from confluence_provisioning.sources.nesting import flatten
from confluence_provisioning.sources.rejects import RejectLog

log = logging.getLogger("confluence_provisioning.sources.entra")

USER, GROUP = "user", "group"
BASE_USER_PROPERTIES = ("id", "userPrincipalName", "displayName", "mail", "accountEnabled", "userType")
GROUP_PROPERTIES = ("id", "displayName")
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def user_properties(settings: EntraSourceSettings) -> list[str]:
    """The user properties a read selects: what every read needs plus what the rules name."""
    named = [settings.login_attribute, settings.email_attribute, settings.display_name_attribute]
    return list(dict.fromkeys([*BASE_USER_PROPERTIES, *named, *settings.extra_attributes]))


def member_kind(odata_type: str | None) -> str:
    """``user``, ``group``, or the other type's name (device, orgContact, servicePrincipal, ...)."""
    return (odata_type or "#microsoft.graph.directoryObject").rsplit(".", 1)[-1]


@dataclass
class Tenant:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> selected properties
    groups: dict[str, str] = field(default_factory=dict)  # id -> displayName
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # group id -> member id -> kind

    def to_state(self, cursor: dict[str, Any]) -> SourceState:
        """Three tables; a group's members are one row (ids and kinds joined by spaces): a million
        memberships load and save as five thousand strings, not a million rows."""
        users = pd.DataFrame(
            {"id": list(self.users), "properties": [_encode(p).decode() for p in self.users.values()]},
            dtype="string",
        )
        groups = pd.DataFrame({"id": list(self.groups), "name": list(self.groups.values())}, dtype="string")
        members = pd.DataFrame(
            {
                "group_id": list(self.members),
                "member_ids": [" ".join(m) for m in self.members.values()],
                "kinds": [" ".join(m.values()) for m in self.members.values()],
            },
            dtype="string",
        )
        return SourceState({"users": users, "groups": groups, "members": members}, cursor)

    @classmethod
    def from_state(cls, state: SourceState) -> Tenant:
        def values(frame: pd.DataFrame, column: str) -> list[Any]:
            # through numpy: iterating a pandas string array costs ten times more
            return frame[column].to_numpy(dtype=object).tolist()

        users, groups, members = (state.tables[name] for name in ("users", "groups", "members"))
        tenant = cls(
            users=dict(zip(values(users, "id"), map(_decode, values(users, "properties")), strict=True)),
            groups=dict(zip(values(groups, "id"), values(groups, "name"), strict=True)),
        )
        tenant.members = {group_id: {} for group_id in tenant.groups}
        columns = (values(members, name) for name in ("group_id", "member_ids", "kinds"))
        for group_id, ids, kinds in zip(*columns, strict=True):
            if ids:
                tenant.members[group_id] = dict(zip(ids.split(" "), kinds.split(" "), strict=True))
        return tenant


def snapshot(tenant: Tenant, settings: EntraSourceSettings) -> SourceSnapshot:
    """The frames of a tenant: guests left out unless the rules include them, nesting flattened."""
    rejects = RejectLog()
    attributes = {name: f"{frames.ATTRIBUTE_PREFIX}{name.lower()}" for name in settings.extra_attributes}
    rows: list[dict[str, Any]] = []
    guests = 0
    for user_id in sorted(tenant.users):
        props = tenant.users[user_id]
        if props.get("userType") == "Guest" and not settings.include_guests:
            guests += 1
            continue
        login = _text(props.get(settings.login_attribute))
        where = _text(props.get("userPrincipalName")) or user_id
        if not login:
            rejects.add(USER, where, user_id, f"the user has no {settings.login_attribute}")
            continue
        row = {
            "id": user_id,
            "dn": where,
            "login": login,
            "email": _text(props.get(settings.email_attribute)),
            "display_name": _text(props.get(settings.display_name_attribute)),
            "active": props.get("accountEnabled") is not False,
        }
        for name, column in attributes.items():
            row[column] = _text(props.get(name))
        rows.append(row)
    if len(rows) < settings.min_users:
        raise EntraReadError(
            f"the tenant gave {len(rows)} usable users, fewer than source.min_users ({settings.min_users}); "
            "an empty or shrunken directory is treated as a failed read: check the app's permissions "
            "(User.Read.All), or lower source.min_users if the tenant really is this small"
        )
    users = frames.from_records(rows, frames.USERS) if rows else frames.empty(frames.USERS)
    for column in attributes.values():
        if column not in users.columns:
            users[column] = pd.Series(dtype=frames.STRING)
    group_ids = sorted(tenant.groups)
    groups = frames.from_records(
        ({"id": g, "dn": tenant.groups[g], "name": tenant.groups[g]} for g in group_ids), frames.GROUPS
    )
    memberships, others = _memberships(tenant, group_ids, [row["id"] for row in rows], settings, rejects)
    if guests or others:
        ignored = ", ".join(f"{count} {kind}" for kind, count in sorted(others.items()))
        log.info("Left out %d guest accounts (source.include_guests is false); ignored members: %s",
                 guests if not settings.include_guests else 0, ignored or "none")  # fmt: skip
    return SourceSnapshot(users, groups, memberships, rejects.frame())


def _memberships(
    tenant: Tenant,
    group_ids: list[str],
    user_ids: list[str],
    settings: EntraSourceSettings,
    rejects: RejectLog,
) -> tuple[pd.DataFrame, Counter[str]]:
    """Flattened memberships; users are numbered in id order, so rows are built by Arrow takes."""
    group_number = {g: n for n, g in enumerate(group_ids)}
    user_number = {u: n for n, u in enumerate(user_ids)}  # user_ids are sorted
    direct_users: list[list[int]] = []
    subgroups: list[list[int]] = []
    others: Counter[str] = Counter()  # members that are neither users nor groups, by kind
    nested = settings.nested_groups and settings.memberships == "direct"
    for group_id in group_ids:
        own: list[int] = []
        children: list[int] = []
        for member_id, kind in tenant.members.get(group_id, {}).items():
            if kind == USER:
                number = user_number.get(member_id)
                if number is not None:
                    own.append(number)
            elif kind == GROUP:
                if nested and member_id in group_number:
                    children.append(group_number[member_id])
            else:
                others[kind] += 1
        own.sort()
        direct_users.append(own)
        children.sort()
        subgroups.append(children)
    flat = flatten(direct_users, subgroups)
    for cycle in flat.cycles:
        path = " -> ".join(tenant.groups[group_ids[g]] for g in [*cycle, cycle[0]])
        rejects.add(
            GROUP,
            tenant.groups[group_ids[cycle[0]]],
            group_ids[cycle[0]],
            f"nested groups form a cycle ({path}); their members are flattened once, "
            "fix the nesting in Entra ID",
        )
    frame = pd.DataFrame(
        {
            "group_id": pd.arrays.ArrowStringArray(
                pa.array(group_ids, pa.large_string()).take(pa.array(flat.groups, pa.int64()))
            ),
            "user_id": pd.arrays.ArrowStringArray(
                pa.array(user_ids, pa.large_string()).take(pa.array(flat.users, pa.int64()))
            ),
            "direct": np.array(flat.direct, dtype=bool),
        }
    )
    return frames.conform(frame, frames.MEMBERSHIPS), others


def _text(value: Any) -> str | None:
    """A property as frame text: lists joined by newlines (the first value first), None when empty."""
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) or None
    text = str(value)
    return text if text else None
