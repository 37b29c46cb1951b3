"""The plan as a frame: Parquet round trip, stable order, and planning speed at scale."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.planner import Plan, plan
from confluence_provisioning.settings import Settings
from tests.plan.states import State, current, desired


def test_a_plan_survives_parquet_with_its_email_source_and_notes(tmp_path):
    want = desired(
        [("alice", "Alice", "alice@example.org", True)], [("eng", True, True)], [("eng", "alice", False)]
    )
    original = plan(want, current([("bob", "Bob", None, True)]), Settings(), allow_over_limits=True)
    path = tmp_path / "plan.parquet"
    original.to_frame().to_parquet(path)

    restored = Plan.from_frame(pd.read_parquet(path))

    assert restored.operations == original.operations
    assert restored.email_source == "none"
    assert restored.notes == original.notes
    assert list(restored.frame.columns) == ["kind", "target", "group", "payload", "reason"]


def test_from_frame_restores_stage_order():
    want = desired(
        [("b", "B", "b@example.org", True), ("a", "A", "a@example.org", True)], [("g", True, False)]
    )
    frame = plan(want, current(), Settings()).to_frame()
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    assert [op.target for op in Plan.from_frame(shuffled).operations] == ["g", "a", "b"]


def _site(users: int, groups: int, memberships: int) -> tuple[State, State]:
    rng = np.random.default_rng(7)
    names = pd.Series([f"user{i:06d}" for i in range(users)], dtype=frames.STRING)
    group_names = pd.Series([f"group{i:04d}" for i in range(groups)], dtype=frames.STRING)
    pairs = pd.DataFrame(
        {"g": rng.integers(0, groups, memberships), "u": rng.integers(0, users, memberships)}
    ).drop_duplicates()
    member_groups = group_names.iloc[pairs["g"]].to_numpy()
    member_users = names.iloc[pairs["u"]].to_numpy()
    want = State(
        frames.conform(
            pd.DataFrame(
                {
                    "username": names,
                    "display_name": "U " + names,
                    "email": names + "@example.org",
                    "active": True,
                    "source_id": names,
                    "source_dn": "uid=" + names,
                    "rule": "all",
                }
            ),
            frames.DESIRED_USERS,
        ),
        frames.conform(
            pd.DataFrame({"name": group_names, "managed": True, "prune_members": True, "rule": "all"}),
            frames.DESIRED_GROUPS,
        ),
        frames.conform(
            pd.DataFrame(
                {"group": member_groups, "username": member_users, "new_users_only": False, "rule": "all"}
            ),
            frames.DESIRED_MEMBERSHIPS,
        ),
    )
    # Confluence lacks the first 500 desired memberships, and has 500 others in the wrong groups
    current_groups = member_groups[500:].copy()
    current_groups[:500] = np.roll(current_groups[:500], 1)
    have = State(
        frames.conform(
            pd.DataFrame(
                {
                    "id": names,
                    "dn": "",
                    "login": names,
                    "email": names + "@example.org",
                    "display_name": "U " + names,
                    "active": True,
                }
            ),
            frames.USERS,
        ),
        frames.conform(pd.DataFrame({"id": group_names, "dn": "", "name": group_names}), frames.GROUPS),
        frames.conform(
            pd.DataFrame({"group_id": current_groups, "user_id": member_users[500:], "direct": True}),
            frames.MEMBERSHIPS,
        ),
    )
    return want, have


def test_100k_users_and_a_million_memberships_plan_in_seconds():
    want, have = _site(100_000, 1_000, 1_000_000)
    started = time.perf_counter()
    result = plan(want, have, Settings())
    elapsed = time.perf_counter() - started
    summary = result.summary()
    assert 500 < summary["add_membership"] <= 1000
    assert 0 < summary["remove_membership"] <= 500
    assert sum(summary.values()) == summary["add_membership"] + summary["remove_membership"]
    assert elapsed < 5, f"planning took {elapsed:.1f}s"
