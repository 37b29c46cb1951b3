"""The directory as SCIM lists it, as the frames every stage shares (``frames.TargetSnapshot``).

Users are keyed by their lower-cased ``userName`` (the email, on Atlassian); ``accounts`` gives
each one's SCIM id and ``externalId`` (the IdP id the sync gave the account, <NA> for accounts
made otherwise), by which the planner knows an account whose email changed. Groups are keyed by
their lower-cased ``displayName``; memberships come from the groups' ``members``.
A member that is not one of the listed users (deleted meanwhile) is left out.
"""

from __future__ import annotations

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.targets.atlassian_cloud.client import ScimGroup, ScimUser


def to_snapshot(users: list[ScimUser], groups: list[ScimGroup]) -> TargetSnapshot:
    user_frame = frames.conform(
        pd.DataFrame(
            {
                "id": [user.user_name.lower() for user in users],
                "dn": [""] * len(users),
                "login": [user.user_name for user in users],
                "email": pd.array([user.email for user in users], dtype="string"),
                "display_name": [user.display_name for user in users],
                "active": [user.active for user in users],
            }
        ),
        frames.USERS,
    )
    group_frame = frames.conform(
        pd.DataFrame(
            {
                "id": [group.display_name.lower() for group in groups],
                "dn": [""] * len(groups),
                "name": [group.display_name for group in groups],
            }
        ),
        frames.GROUPS,
    )
    name_of = {user.id: user.user_name.lower() for user in users}
    pairs = [
        (group.display_name.lower(), name_of[member.value])
        for group in groups
        for member in group.members
        if member.value in name_of
    ]
    memberships = frames.conform(
        pd.DataFrame(
            {
                "group_id": [group for group, _ in pairs],
                "user_id": [user for _, user in pairs],
                "direct": [True] * len(pairs),
            }
        ),
        frames.MEMBERSHIPS,
    )
    accounts = frames.conform(
        pd.DataFrame(
            {
                "user_id": [user.user_name.lower() for user in users],
                "account_id": [user.id for user in users],
                "idp_id": pd.array([user.external_id or None for user in users], dtype="string"),
            }
        ),
        frames.ACCOUNTS,
    )
    return TargetSnapshot(users=user_frame, groups=group_frame, memberships=memberships, accounts=accounts)
