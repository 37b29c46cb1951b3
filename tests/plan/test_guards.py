"""Every guard trips with its message; the override passes count and percent guards only."""

from __future__ import annotations

import pickle

import pytest

from confluence_provisioning.plan.planner import GuardError, plan
from confluence_provisioning.settings import Settings
from tests.plan.states import current, desired, rows

OVERRIDE = "trigger the DAG once with the param allow_over_limits=true"


def settings(**limits) -> Settings:
    return Settings.model_validate({"limits": limits})


def site(count: int):
    """``count`` active local users, none of them in the rules."""
    return current([(f"user{i:02d}", f"User {i}", None, True) for i in range(count)])


def test_too_many_users_disabled_by_count():
    with pytest.raises(GuardError) as caught:
        plan(
            desired(),
            site(12),
            settings(max_users_disabled_or_deleted=10, max_users_disabled_or_deleted_percent=100),
        )
    assert str(caught.value) == (
        "the plan breaks 1 safety guard; nothing was applied:\n"
        "- 12 users would be disabled or deleted, 100.0% of 12 Confluence users; "
        "limits.max_users_disabled_or_deleted is 10: user00, user01, user02, user03, user04 and 7 more. "
        f"To allow it, raise that limit in the rules file or {OVERRIDE}"
    )
    assert len(caught.value.plan) == 12  # what would have happened, for the report


def test_too_many_users_disabled_by_percent_on_a_first_run():
    # a site with 40 local accounts and 2 LDAP users: the default 5% stops the surprise
    want = desired([("alice", "Alice", "a@example.org", True), ("bob", "Bob", "b@example.org", True)])
    with pytest.raises(GuardError) as caught:
        plan(want, site(40), Settings())
    assert str(caught.value) == (
        "the plan breaks 1 safety guard; nothing was applied:\n"
        "- 40 users would be disabled or deleted, 100.0% of 40 Confluence users; "
        "limits.max_users_disabled_or_deleted_percent is 5%: user00, user01, user02, user03, user04 "
        f"and 35 more. To allow it, raise that limit in the rules file or {OVERRIDE}"
    )
    passed = plan(want, site(40), Settings(), allow_over_limits=True)
    assert passed.summary()["disable_user"] == 40


def test_both_user_limits_and_deletions_count_together():
    rules = {
        "users": {"out_of_scope": "delete", "operations": {"delete": True}},
        "limits": {"max_users_disabled_or_deleted": 1, "max_users_disabled_or_deleted_percent": 10},
    }
    have = current([("a", "A", None, True), ("b", "B", None, False), ("keep", "K", None, True)])
    want = desired([("keep", "K", "k@example.org", True)])
    with pytest.raises(
        GuardError,
        match=r"2 users would be disabled or deleted, 66\.7% of 3 Confluence users; "
        r"limits\.max_users_disabled_or_deleted is 1 and "
        r"limits\.max_users_disabled_or_deleted_percent is 10%: a, b\. "
        r"To allow it, raise these limits in the rules file",
    ):
        plan(want, have, Settings.model_validate(rules))


def _pruning(members: int, keep: int):
    users = [(f"u{i}", f"U{i}", f"u{i}@example.org", True) for i in range(members)]
    want = desired(users, [("eng", True, True)], [("eng", f"u{i}", False) for i in range(keep)])
    have = current(users, ["eng"], [("eng", f"u{i}") for i in range(members)])
    return want, have


def test_too_many_membership_removals():
    want, have = _pruning(8, 1)
    with pytest.raises(GuardError) as caught:
        plan(want, have, settings(max_membership_removals=6))
    assert str(caught.value) == (
        "the plan breaks 1 safety guard; nothing was applied:\n"
        "- 7 memberships would be removed; limits.max_membership_removals is 6: "
        "u1 from eng, u2 from eng, u3 from eng, u4 from eng, u5 from eng and 2 more. "
        f"To allow it, raise that limit in the rules file or {OVERRIDE}"
    )
    assert (
        plan(want, have, settings(max_membership_removals=6), allow_over_limits=True).summary()[
            "remove_membership"
        ]
        == 7
    )


def test_removals_of_disabled_accounts_count_toward_the_membership_limit():
    # three members leave the pruned group: one active, one disabled in this run (its IdP
    # entry is disabled), one disabled before and now out of scope; all three count
    want = desired(
        [("keep", "Keep", "keep@example.org", True), ("lock", "Lock", "lock@example.org", False)],
        [("eng", True, True)],
        [("eng", "keep", False)],
    )
    have = current(
        [
            ("keep", "Keep", None, True),
            ("lock", "Lock", None, True),
            ("gone", "Gone", None, False),
            ("moved", "Moved", None, True),
        ],
        ["eng"],
        [("eng", "keep"), ("eng", "lock"), ("eng", "gone"), ("eng", "moved")],
    )
    rules = {"max_membership_removals": 2, "max_users_disabled_or_deleted_percent": 100}
    with pytest.raises(GuardError) as caught:
        plan(want, have, settings(**rules))
    assert caught.value.violations == [
        "3 memberships would be removed; limits.max_membership_removals is 2: "
        f"gone from eng, lock from eng, moved from eng. To allow it, raise that limit in the rules file "
        f"or {OVERRIDE}"
    ]


def test_a_group_is_never_emptied_unless_the_rules_say_so():
    want, have = _pruning(3, 0)
    message = (
        "the plan breaks 1 safety guard; nothing was applied:\n"
        "- 1 group would be left with no members: eng (3 removed). "
        "To allow it, set limits.allow_emptying_groups: true in the rules file "
        "(allow_over_limits does not cover this)"
    )
    for over in (False, True):
        with pytest.raises(GuardError) as caught:
            plan(want, have, Settings(), allow_over_limits=over)
        assert str(caught.value) == message
    assert rows(plan(want, have, settings(allow_emptying_groups=True))) == [
        ("remove_membership", "u0", "eng"),
        ("remove_membership", "u1", "eng"),
        ("remove_membership", "u2", "eng"),
    ]


def test_a_protected_member_keeps_a_group_from_being_empty():
    want, have = _pruning(2, 0)
    have = current(
        [("u0", "U0", None, True), ("u1", "U1", None, True), ("admin", "A", None, True)],
        ["eng"],
        [("eng", "u0"), ("eng", "u1"), ("eng", "admin")],
    )
    assert len(plan(want, have, Settings())) == 2


def test_too_many_group_deletions_and_all_broken_guards_listed():
    want = desired([], [], [])
    have = current([("a", "A", None, True)], ["g1", "g2", "g3"])
    with pytest.raises(GuardError) as caught:
        plan(
            want,
            have,
            settings(max_group_deletions=2, max_users_disabled_or_deleted_percent=50),
            previously_managed_groups=["g1", "g2", "g3"],
        )
    assert caught.value.violations == [
        "1 users would be disabled or deleted, 100.0% of 1 Confluence users; "
        "limits.max_users_disabled_or_deleted_percent is 50%: a. "
        f"To allow it, raise that limit in the rules file or {OVERRIDE}",
        "3 groups would be deleted; limits.max_group_deletions is 2: g1, g2, g3. "
        f"To allow it, raise that limit in the rules file or {OVERRIDE}",
    ]
    assert str(caught.value).startswith("the plan breaks 2 safety guards; nothing was applied:\n- 1 users")


def test_a_guard_error_survives_pickling():
    with pytest.raises(GuardError) as caught:
        plan(desired(), site(3), Settings())
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value)
    assert copy.plan.operations == caught.value.plan.operations
