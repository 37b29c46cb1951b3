"""A generated company as the IdP frames an LDAP extraction of its LDIF yields.

Ids are entryUUIDs, logins uids, display names displayName; nested groups are
flattened (``direct`` is False for a membership that only comes through
nesting). Service accounts are users too: scoping them out is the rules' job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.company import Company
from confluence_provisioning import frames


@dataclass(frozen=True)
class IdpFrames:
    users: pd.DataFrame
    groups: pd.DataFrame
    memberships: pd.DataFrame


def idp_frames(company: Company) -> IdpFrames:
    people = [(p, company.person_dn(p)) for p in company.people]
    people += [(p, company.service_dn(p)) for p in company.services]
    users = frames.conform(
        pd.DataFrame(
            {
                "id": [p.uuid for p, _ in people],
                "dn": [dn for _, dn in people],
                "login": [p.uid for p, _ in people],
                "email": [p.mail for p, _ in people],
                "display_name": [p.display_name for p, _ in people],
                "active": [not p.locked for p, _ in people],
            }
        ),
        frames.USERS,
    )
    groups = frames.conform(
        pd.DataFrame(
            {
                "id": [g.uuid for g in company.groups],
                "dn": [company.group_dn(g) for g in company.groups],
                "name": [g.cn for g in company.groups],
            }
        ),
        frames.GROUPS,
    )
    return IdpFrames(users, groups, _memberships(company))


def effective_members(company: Company) -> list[np.ndarray]:
    """Per group, the sorted person indexes reachable through nesting (groups form a DAG)."""
    result: list[np.ndarray | None] = [None] * len(company.groups)

    def members(index: int) -> np.ndarray:
        found = result[index]
        if found is None:
            group = company.groups[index]
            parts = [np.asarray(group.users, dtype=np.int64), *(members(g) for g in group.groups)]
            found = result[index] = np.unique(np.concatenate(parts))
        return found

    return [members(i) for i in range(len(company.groups))]


def _memberships(company: Company) -> pd.DataFrame:
    person_ids = np.array([p.uuid for p in company.people], dtype=object)
    group_ids, user_ids, direct = [], [], []
    for group, members in zip(company.groups, effective_members(company), strict=True):
        group_ids.append(np.full(len(members), group.uuid, dtype=object))
        user_ids.append(person_ids[members])
        direct.append(np.isin(members, np.asarray(group.users, dtype=np.int64)))
    return frames.conform(
        pd.DataFrame(
            {
                "group_id": np.concatenate(group_ids),
                "user_id": np.concatenate(user_ids),
                "direct": np.concatenate(direct),
            }
        ),
        frames.MEMBERSHIPS,
    )
