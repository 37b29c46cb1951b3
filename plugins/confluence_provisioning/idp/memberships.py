"""Member values -> direct users and subgroups of each group, then flattened memberships.

Member values are DNs (``member``, ``uniqueMember``), user logins (posix
``memberUid``, matched exactly as written) or, on Active Directory, a user's
``primaryGroupID``. A value that names neither a user nor a group that was read
is a reject row on the group; a member that was itself rejected is skipped
quietly (its own reject row says why). Users whose primary group is not among
the groups read are normal on Active Directory (Domain Users is often out of
scope) and are not reported.
"""

from __future__ import annotations

from collections import defaultdict
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa

from confluence_provisioning import frames
from confluence_provisioning.idp.dn import DnIndex
from confluence_provisioning.idp.groups import GroupColumns
from confluence_provisioning.idp.nesting import Flattened, flatten
from confluence_provisioning.idp.rejects import RejectLog
from confluence_provisioning.idp.users import UserColumns

# Member attributes whose values are user logins rather than DNs.
LOGIN_VALUED = {"memberuid"}


def membership_frame(
    users: UserColumns, groups: GroupColumns, nested_groups: bool, rejects: RejectLog
) -> pd.DataFrame:
    """The flattened memberships frame (group_id, user_id, direct); cycles become reject rows."""
    resolver = _MemberResolver(users, groups, rejects)
    direct_users: list[dict[str, None]] = []  # per group, an ordered set of user ids
    subgroups: list[list[int]] = []
    for group in range(len(groups.ids)):
        own, nested = resolver.direct_members(group)
        direct_users.append(own)
        subgroups.append(nested if nested_groups else [])
    _add_primary_groups(users, groups, direct_users)

    flat = flatten([list(own) for own in direct_users], subgroups)
    for cycle in flat.cycles:
        path = " -> ".join(groups.dns[group] for group in [*cycle, cycle[0]])
        rejects.add(
            "group",
            groups.dns[cycle[0]],
            groups.ids[cycle[0]],
            f"nested groups form a cycle ({path}); their members are flattened once, "
            "fix the nesting in the directory",
        )
    return frames.conform(_arrow_frame(groups.ids, flat), frames.MEMBERSHIPS)


def _arrow_frame(group_ids: list[str], flat: Flattened) -> pd.DataFrame:
    """The rows as Arrow-backed columns, built in C: group ids are taken by index, not repeated in Python.

    Columns already in the schema's dtypes make `frames.conform` a no-op instead of a conversion.
    """
    taken = pa.array(group_ids, pa.large_string()).take(pa.array(flat.groups, pa.int64()))
    columns = {
        "group_id": pd.arrays.ArrowStringArray(taken),
        "user_id": pd.arrays.ArrowStringArray(pa.array(flat.users, pa.large_string())),
        "direct": np.array(flat.direct, dtype=bool),
    }
    return pd.DataFrame(columns)


class _MemberResolver:
    """Looks member values up among the users and groups that were read."""

    def __init__(self, users: UserColumns, groups: GroupColumns, rejects: RejectLog) -> None:
        self._groups = groups
        self._rejects = rejects
        # DN -> user id (str), group index (int) or None for a rejected entry
        self._by_dn: DnIndex[str | int | None] = DnIndex()
        for dn in [*users.rejected_dns, *groups.rejected_dns]:
            self._by_dn[dn] = None
        for dn, user_id in zip(users.dns, users.ids, strict=True):
            self._by_dn[dn] = user_id
        for group, dn in enumerate(groups.dns):
            self._by_dn[dn] = group
        # DN as written -> user id: member values mostly spell a user's DN exactly as its entry
        # does, so a whole attribute resolves with one plain look-up per value (`_users_as_written`).
        # Left to `_by_dn`: a DN that is also a group's (in any letter case; groups win there) and
        # one that looks like it carries a unique-id suffix (`_without_uid` would cut it).
        group_dns = {dn.lower() for dn in groups.dns}
        self._user_by_dn = {
            dn: user_id
            for dn, user_id in zip(users.dns, users.ids, strict=True)
            if not dn.endswith("'B") and dn.lower() not in group_dns
        }
        self._by_login: dict[str, list[str]] = defaultdict(list)
        for login, user_id in zip(users.logins, users.ids, strict=True):
            self._by_login[login].append(user_id)
        # member value as written -> what `_by_dn` finds (False: nothing). A user is a member of
        # several groups, so most values recur: each is cut and lower-cased only once.
        self._found: dict[str, str | int | bool | None] = {}

    def direct_members(self, group: int) -> tuple[dict[str, None], list[int]]:
        """The group's own users (ordered, without repeats) and its subgroups."""
        users: dict[str, None] = {}
        subgroups: list[int] = []
        for attribute, values in self._groups.members[group]:
            if attribute.lower() in LOGIN_VALUED:
                for login in values:
                    found = self._by_login.get(login)
                    if found is None:
                        self._reject(group, f"{attribute} {login!r} is the login of no user that was read")
                    users.update(dict.fromkeys(found or ()))
                continue
            as_written = self._users_as_written(values)
            if as_written is not None:
                users.update(dict.fromkeys(as_written))
                continue
            for value in values:
                found = self._found.get(value)
                if found is None and value not in self._found:
                    found = self._found[value] = self._by_dn.get(_without_uid(value), False)
                if found is False:
                    self._reject(
                        group,
                        f"{attribute} {value!r} names no user or group that was read (it is outside "
                        "directory.user_base_dn/user_filter and group_base_dn/group_filter, or missing)",
                    )
                elif isinstance(found, str):
                    users[found] = None
                elif isinstance(found, int):
                    subgroups.append(found)
        return users, subgroups

    def _users_as_written(self, values: list[str]) -> list[str] | None:
        """The user ids of ``values`` when each is a user's DN spelled as its entry spells it, else None.

        None sends the attribute through the value-by-value resolution, which keeps the order
        of users and subgroups and reports each miss.
        """
        found = list(map(self._user_by_dn.get, values))
        return None if None in found else cast(list[str], found)

    def _reject(self, group: int, reason: str) -> None:
        groups = self._groups
        self._rejects.add("membership", groups.dns[group], groups.ids[group], f"member left out: {reason}")


def _add_primary_groups(
    users: UserColumns, groups: GroupColumns, direct_users: list[dict[str, None]]
) -> None:
    """Active Directory: a user is a direct member of the group whose SID ends in its primaryGroupID."""
    by_rid = {rid: group for group, rid in enumerate(groups.rids) if rid is not None}
    for user_id, rid in zip(users.ids, users.primary_group_rids, strict=True):
        group = by_rid.get(rid) if rid is not None else None
        if group is not None:
            direct_users[group][user_id] = None


def _without_uid(value: str) -> str:
    """A uniqueMember value without its optional ``#'0101'B`` unique-id suffix (nameAndOptionalUID)."""
    return value.rpartition("#'")[0] if value.endswith("'B") else value
