"""The mapping of a large directory stays within seconds: joins and column passes, no per-row Python."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from confluence_provisioning import frames
from confluence_provisioning.mapping.stage import map_rules
from tests.mapping.idp import BASE, Idp, rules

USERS, GROUPS, MEMBERSHIPS = 100_000, 5_000, 1_000_000


def large_directory(users: int = USERS, groups: int = GROUPS, memberships: int = MEMBERSHIPS) -> Idp:
    """``users`` users (every 50th a service account, every 20th disabled), ``groups`` groups named
    Team-<n>, about ``memberships`` random direct memberships; made with column operations, in seconds."""
    rng = np.random.default_rng(7)
    n = np.arange(users)
    ous = np.where(n % 50 == 0, "service", "people")
    people = pd.DataFrame(
        {
            "id": pd.array([f"u{i}" for i in n], dtype="string"),
            "dn": pd.array(
                [f"uid=User{i},ou={ou},{BASE}" for i, ou in zip(n, ous, strict=True)], dtype="string"
            ),
            "login": pd.array([f"User{i}" for i in n], dtype="string"),
            "email": pd.array([f"user{i}@corp.com" for i in n], dtype="string"),
            "display_name": pd.array([f"User {i}" for i in n], dtype="string"),
            "active": n % 20 != 0,
            "attr.departmentnumber": pd.array([f"d{i % 40}" for i in n], dtype="string"),
        }
    )
    g = np.arange(groups)
    teams = pd.DataFrame(
        {
            "id": pd.array([f"g{i}" for i in g], dtype="string"),
            "dn": pd.array([f"cn=Team-{i},ou=groups,{BASE}" for i in g], dtype="string"),
            "name": pd.array([f"Team-{i}" for i in g], dtype="string"),
        }
    )
    pairs = pd.DataFrame(
        {"group": rng.integers(0, groups, memberships), "user": rng.integers(0, users, memberships)}
    ).drop_duplicates()
    members = pd.DataFrame(
        {
            "group_id": teams["id"].to_numpy()[pairs["group"]],
            "user_id": people["id"].to_numpy()[pairs["user"]],
            "direct": True,
        }
    )
    return Idp(
        frames.conform(people, frames.USERS),
        frames.conform(teams, frames.GROUPS),
        frames.conform(members, frames.MEMBERSHIPS),
    )


@pytest.mark.slow
def test_a_hundred_thousand_users_and_a_million_memberships_map_in_seconds() -> None:
    idp = large_directory()
    settings = rules(
        source={"extra_attributes": ["departmentNumber"]},
        users={
            "include": {"dn_subtrees": [f"ou=people,{BASE}"], "attributes": {"departmentNumber": "^d1"}},
            "exclude": {"groups": ["team-1"]},
            "username": {"lowercase": True, "rewrites": [{"pattern": "^user", "replace": "u"}]},
        },
        groups={
            "default_groups": {"all_users": ["confluence-users"]},
            "manual": {"mappings": [{"confluence_group": "engineering", "idp_groups": ["team-2", "team-3"]}]},
            "on_the_fly": {
                "enabled": True,
                "exclude": ["^team-4"],
                "rewrites": [{"pattern": "^team-(.*)$", "replace": "\\1-team"}],
            },
        },
    )
    started = time.monotonic()
    result = map_rules(idp, settings)
    elapsed = time.monotonic() - started
    users = idp.users
    included = ~users["dn"].str.contains("ou=service") | users["attr.departmentnumber"].str.startswith("d1")
    excluded = users["id"].isin(idp.memberships.loc[idp.memberships["group_id"] == "g1", "user_id"])
    assert len(result.users) == int((included & ~excluded).sum())
    assert result.users["username"].iloc[0] == "u1"
    assert (
        len(result.groups) == GROUPS - 1111 - 2 + 2
    )  # team-4*, team-2 and team-3 out; engineering, defaults in
    assert result.memberships["group"].is_monotonic_increasing
    assert result.rejects.empty
    assert elapsed < 30, f"mapping took {elapsed:.1f} s"  # a few seconds on two cores; generous for busy CI
