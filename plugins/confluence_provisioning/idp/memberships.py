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

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.idp.dn import DnIndex
from confluence_provisioning.idp.groups import GroupColumns
from confluence_provisioning.idp.nesting import flatten
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
    group_ids = [groups.ids[group] for group in flat.groups]
    frame = pd.DataFrame({"group_id": group_ids, "user_id": flat.users, "direct": flat.direct})
    return frames.conform(frame, frames.MEMBERSHIPS)


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
