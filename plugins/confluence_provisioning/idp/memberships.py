"""Member values -> direct users and subgroups of each group, then flattened memberships.

Member values are DNs (``member``, ``uniqueMember``), user logins (posix
``memberUid``) or, on Active Directory, a user's ``primaryGroupID``. A value
that names neither a user nor a group that was read is a reject row on the
group; a member that was itself rejected is skipped quietly (its own reject row
says why). Users whose primary group is not among the groups read are normal on
Active Directory (Domain Users is often out of scope) and are not reported.
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
_USER, _GROUP, _REJECTED = 0, 1, 2


def membership_frame(
    users: UserColumns, groups: GroupColumns, nested_groups: bool, rejects: RejectLog
) -> pd.DataFrame:
    """The flattened memberships frame (group_id, user_id, direct); cycles become reject rows."""
    index = _member_index(users, groups)
    by_login: dict[str, list[str]] = defaultdict(list)
    for login, user_id in zip(users.logins, users.ids, strict=True):
        by_login[login].append(user_id)

    direct_users: list[dict[str, None]] = [{} for _ in groups.ids]  # dicts: ordered sets
    subgroups: list[list[int]] = [[] for _ in groups.ids]
    for group, members in enumerate(groups.members):
        own = direct_users[group]
        for attribute, values in members:
            if attribute.lower() in LOGIN_VALUED:
                for login in values:
                    found = by_login.get(login)
                    if found is None:
                        _reject(rejects, groups, group, f"{attribute} {login!r} is the login of no user read")
                    own.update(dict.fromkeys(found or ()))
                continue
            for value in values:
                found = index.get(_without_uid(value))
                if found is None:
                    _reject(
                        rejects,
                        groups,
                        group,
                        f"{attribute} {value!r} is not a user or group that was read (outside "
                        "directory.user_base_dn/user_filter and group_base_dn/group_filter, or missing)",
                    )
                elif found[0] == _USER:
                    own[found[1]] = None
                elif found[0] == _GROUP and nested_groups:
                    subgroups[group].append(found[1])

    by_rid = {rid: group for group, rid in enumerate(groups.rids) if rid is not None}
    for user_id, rid in zip(users.ids, users.primary_group_rids, strict=True):
        group = by_rid.get(rid) if rid is not None else None
        if group is not None:
            direct_users[group][user_id] = None

    flat = flatten([list(own) for own in direct_users], subgroups)
    for cycle in flat.cycles:
        names = " -> ".join(groups.dns[group] for group in [*cycle, cycle[0]])
        rejects.add(
            "group",
            groups.dns[cycle[0]],
            groups.ids[cycle[0]],
            f"nested groups form a cycle ({names}); their members are flattened once, "
            "fix the nesting in the directory",
        )
    group_ids = [groups.ids[group] for group in flat.groups]
    frame = pd.DataFrame({"group_id": group_ids, "user_id": flat.users, "direct": flat.direct})
    return frames.conform(frame, frames.MEMBERSHIPS)


def _member_index(users: UserColumns, groups: GroupColumns) -> DnIndex[tuple[int, object]]:
    index: DnIndex[tuple[int, object]] = DnIndex()
    for dn in [*users.rejected_dns, *groups.rejected_dns]:
        index[dn] = (_REJECTED, None)
    for dn, user_id in zip(users.dns, users.ids, strict=True):
        index[dn] = (_USER, user_id)
    for group, dn in enumerate(groups.dns):
        index[dn] = (_GROUP, group)
    return index


def _without_uid(value: str) -> str:
    """A uniqueMember value without its optional ``#'0101'B`` unique-id suffix (nameAndOptionalUID)."""
    return value.rpartition("#'")[0] if value.endswith("'B") else value


def _reject(rejects: RejectLog, groups: GroupColumns, group: int, reason: str) -> None:
    rejects.add("membership", groups.dns[group], groups.ids[group], f"member left out: {reason}")
