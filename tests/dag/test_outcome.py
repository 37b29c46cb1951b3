"""What a run's results mean for the history: the ledger, managed groups, the error, the guards table."""

from __future__ import annotations

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.apply.applier import RESULTS
from confluence_provisioning.pipeline import outcome
from confluence_provisioning.reporting import GuardRow
from confluence_provisioning.settings import Limits


def results(*rows: tuple) -> pd.DataFrame:
    return frames.conform(pd.DataFrame(rows, columns=list(RESULTS)), RESULTS)


RESULTS_OF_A_RUN = results(
    ("create_group", "eng", None, "applied", 201, 1, 1.0, None),
    ("create_group", "ops", None, "already-true", 409, 1, 1.0, None),
    ("create_group", "qa", None, "failed", 500, 2, 1.0, "server error"),
    ("create_user", "alice", None, "applied", 201, 1, 1.0, None),
    ("create_user", "bob", None, "failed", 400, 1, 1.0, "email invalid"),
    ("update_user", "carol", None, "applied", 204, 1, 1.0, None),
    ("add_membership", "alice", "eng", "applied", 204, 1, 1.0, None),
    ("add_membership", "bob", "qa", "skipped", None, 0, 0.0, "not sent: user bob was not created"),
    ("delete_group", "old", None, "already-true", 404, 1, 1.0, None),
)
DESIRED_USERS = frames.from_records(
    [
        {"username": name, "display_name": name.title(), "email": f"{name}@x.org", "active": True}
        | {"source_id": name, "source_dn": f"uid={name}", "rule": "all"}
        for name in ("alice", "bob", "carol", "dave")
    ],
    frames.DESIRED_USERS,
)


def test_the_ledger_gets_the_whole_profile_of_users_created_or_updated() -> None:
    pushed = outcome.pushed_profiles(DESIRED_USERS, RESULTS_OF_A_RUN)

    expected = pd.DataFrame(
        {
            "username": ["alice", "carol"],
            "email": ["alice@x.org", "carol@x.org"],
            "display_name": ["Alice", "Carol"],
        }
    )
    pd.testing.assert_frame_equal(pushed, frames.conform(expected, outcome.PUSHED))


def test_only_groups_this_run_created_become_managed() -> None:
    assert outcome.created_groups(RESULTS_OF_A_RUN) == {"eng"}
    assert outcome.deleted_groups(RESULTS_OF_A_RUN) == {"old"}


def test_the_error_names_the_failed_operations() -> None:
    assert (
        outcome.failure_message(RESULTS_OF_A_RUN) == "2 operations failed: create group qa, create user bob"
    )
    assert outcome.failure_message(RESULTS_OF_A_RUN.iloc[:2]) is None


def test_the_guards_table_compares_the_plan_with_the_limits() -> None:
    limits = Limits(max_users_disabled_or_deleted=2, max_membership_removals=10, max_group_deletions=0)
    summary = {"disable_user": 2, "delete_user": 1, "remove_membership": 4}

    assert outcome.guard_rows(summary, limits, allow_over_limits=False) == [
        GuardRow("users disabled or deleted", 3, "2 and 5% of Confluence users", "over the limit"),
        GuardRow("memberships removed", 4, "10", "within the limit"),
        GuardRow("groups deleted", 0, "0", "within the limit"),
    ]
    assert {row.outcome for row in outcome.guard_rows(summary, limits, allow_over_limits=True)} == {
        "not enforced (allow_over_limits)"
    }
