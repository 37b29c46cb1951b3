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
from functools import cached_property
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from confluence_provisioning import frames
from confluence_provisioning.sources.ldap.dn import DnIndex
from confluence_provisioning.sources.ldap.groups import GroupColumns
from confluence_provisioning.sources.ldap.users import UserColumns
from confluence_provisioning.sources.nesting import Flattened, flatten
from confluence_provisioning.sources.rejects import RejectLog

# Member attributes whose values are user logins rather than DNs.
LOGIN_VALUED = {"memberuid"}


def membership_frame(
    users: UserColumns, groups: GroupColumns, nested_groups: bool, rejects: RejectLog
) -> pd.DataFrame:
    """The flattened memberships frame (group_id, user_id, direct); cycles become reject rows."""
    numbers, ids_in_order = _number_users(users.ids)
    resolver = _MemberResolver(users, numbers, groups, rejects)
    direct_users: list[dict[int, None]] = []  # per group, an ordered set of user numbers
    subgroups: list[list[int]] = []
    for group in range(len(groups.ids)):
        own, nested = resolver.direct_members(group)
        direct_users.append(own)
        subgroups.append(nested if nested_groups else [])
    _add_primary_groups(users, numbers, groups, direct_users)

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
    return frames.conform(_arrow_frame(groups.ids, ids_in_order, flat), frames.MEMBERSHIPS)


def _number_users(user_ids: list[str]) -> tuple[list[int], pa.Array]:
    """Each user's number (its place among the ids in sorted order), and the ids in that order.

    Memberships carry numbers instead of ids: small ints hash and compare faster than id
    strings, sort as the ids do (inherited members come out in id order, as before), and
    turn back into ids with one Arrow take.
    """
    ids = pa.array(user_ids, pa.large_string())
    order = pc.sort_indices(ids).to_numpy()  # code point order: UTF-8 bytes sort as the str do
    numbers = np.empty(len(user_ids), dtype=np.int64)
    numbers[order] = np.arange(len(user_ids))
    return numbers.tolist(), ids.take(order)


def _arrow_frame(group_ids: list[str], ids_in_order: pa.Array, flat: Flattened[int]) -> pd.DataFrame:
    """The rows as Arrow-backed columns, built in C: ids are taken by index, not repeated in Python.

    Columns already in the schema's dtypes make `frames.conform` a no-op instead of a conversion.
    """
    groups = pa.array(group_ids, pa.large_string()).take(pa.array(flat.groups, pa.int64()))
    users = ids_in_order.take(pa.array(flat.users, pa.int64()))
    columns = {
        "group_id": pd.arrays.ArrowStringArray(groups),
        "user_id": pd.arrays.ArrowStringArray(users),
        "direct": np.array(flat.direct, dtype=bool),
    }
    return pd.DataFrame(columns)


class _MemberResolver:
    """Looks member values up among the users and groups that were read."""

    def __init__(
        self, users: UserColumns, numbers: list[int], groups: GroupColumns, rejects: RejectLog
    ) -> None:
        self._groups = groups
        self._rejects = rejects
        self._users = users
        self._numbers = numbers
        # Member values mostly spell a DN exactly as its entry does. Those are looked up as
        # written; the letter-case and canonical indexes below are built only for the rest.
        # Left to `_by_dn` (see there): a DN equal to another entry's in any letter case (the
        # later entry wins there, groups after users) and one that looks like it carries a
        # unique-id suffix (`_without_uid` cuts it).
        group_of_lower = {dn.lower(): group for group, dn in enumerate(groups.dns)}
        # DN as written -> user number (`_users_as_written`)
        self._user_by_dn = {
            dn: number
            for dn, number in zip(users.dns, numbers, strict=True)
            if not dn.endswith("'B") and dn.lower() not in group_of_lower
        }
        # member value as written -> what `_by_dn` finds (False: nothing). A user is a member of
        # several groups, so most values recur: each is cut and lower-cased only once.
        self._found: dict[str, str | int | bool | None] = {
            dn: group
            for group, dn in enumerate(groups.dns)
            if not dn.endswith("'B") and group_of_lower[dn.lower()] == group
        }

    @cached_property
    def _by_dn(self) -> DnIndex[str | int | None]:
        """DN -> user id (str), group index (int) or None for a rejected entry."""
        users, groups = self._users, self._groups
        by_dn: DnIndex[str | int | None] = DnIndex()
        for dn in [*users.rejected_dns, *groups.rejected_dns]:
            by_dn[dn] = None
        for dn, user_id in zip(users.dns, users.ids, strict=True):
            by_dn[dn] = user_id
        for group, dn in enumerate(groups.dns):
            by_dn[dn] = group
        return by_dn

    @cached_property
    def _number_of(self) -> dict[str, int]:
        """User id -> user number, for the users `_by_dn` finds."""
        return dict(zip(self._users.ids, self._numbers, strict=True))

    @cached_property
    def _by_login(self) -> dict[str, list[int]]:
        """Login -> the numbers of the users with that login (logins may repeat, see users.py)."""
        by_login: dict[str, list[int]] = defaultdict(list)
        for login, number in zip(self._users.logins, self._numbers, strict=True):
            by_login[login].append(number)
        return by_login

    def direct_members(self, group: int) -> tuple[dict[int, None], list[int]]:
        """The group's own users (numbers, ordered, without repeats) and its subgroups."""
        users: dict[int, None] = {}
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
                number = self._user_by_dn.get(value)
                if number is not None:
                    users[number] = None
                    continue
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
                    users[self._number_of[found]] = None
                elif isinstance(found, int):
                    subgroups.append(found)
        return users, subgroups

    def _users_as_written(self, values: list[str]) -> list[int] | None:
        """The user numbers of ``values`` when each is a user's DN spelled as its entry spells it, else None.

        None sends the attribute through the value-by-value resolution, which keeps the order
        of users and subgroups and reports each miss.
        """
        found = list(map(self._user_by_dn.get, values))
        return None if None in found else cast(list[int], found)

    def _reject(self, group: int, reason: str) -> None:
        groups = self._groups
        self._rejects.add("membership", groups.dns[group], groups.ids[group], f"member left out: {reason}")


def _add_primary_groups(
    users: UserColumns, numbers: list[int], groups: GroupColumns, direct_users: list[dict[int, None]]
) -> None:
    """Active Directory: a user is a direct member of the group whose SID ends in its primaryGroupID."""
    by_rid = {rid: group for group, rid in enumerate(groups.rids) if rid is not None}
    for number, rid in zip(numbers, users.primary_group_rids, strict=True):
        group = by_rid.get(rid) if rid is not None else None
        if group is not None:
            direct_users[group][number] = None


def _without_uid(value: str) -> str:
    """A uniqueMember value without its optional ``#'0101'B`` unique-id suffix (nameAndOptionalUID)."""
    return value.rpartition("#'")[0] if value.endswith("'B") else value
