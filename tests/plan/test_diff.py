"""The planner's diff: exact operations for small desired/current states."""

from __future__ import annotations

import pytest

from confluence_provisioning.plan.planner import OperationKind, plan
from confluence_provisioning.settings import Settings
from tests.plan.states import current, desired, rows

# The guards have their own tests: here they are wide open.
OPEN = {"max_users_disabled_or_deleted": 1000, "max_users_disabled_or_deleted_percent": 100}


def settings(**sections) -> Settings:
    return Settings.model_validate({"limits": OPEN, **sections})


ALICE = ("alice", "Alice Adams", "alice@example.org", True)
BOB = ("bob", "Bob Brown", "bob@example.org", True)


def test_empty_confluence_gets_everything_in_stage_order():
    want = desired(
        [ALICE, BOB],
        [("eng", True, True), ("confluence-users", True, False)],
        [("eng", "alice", False), ("confluence-users", "alice", True), ("confluence-users", "bob", True)],
    )
    result = plan(want, current(), settings())

    assert rows(result) == [
        ("create_group", "confluence-users", None),
        ("create_group", "eng", None),
        ("create_user", "alice", None),
        ("create_user", "bob", None),
        ("add_membership", "alice", "confluence-users"),
        ("add_membership", "bob", "confluence-users"),
        ("add_membership", "alice", "eng"),
    ]
    create_alice = result.operations[2]
    assert create_alice.payload == {
        "full_name": "Alice Adams",
        "email": "alice@example.org",
        "external_id": "id-alice",
    }
    assert create_alice.reason == (
        "rule scope:all: IdP user uid=alice,ou=people,dc=example,dc=org is in scope and not in Confluence"
    )
    assert result.operations[0].reason == "rule group:confluence-users: the group is not in Confluence"
    assert result.operations[4].reason == (
        "rule member:confluence-users (new users only): alice belongs in confluence-users"
    )
    assert [stage.name for stage in result.stages()] == [
        "create groups",
        "create and update users",
        "add memberships",
        "remove memberships",
        "disable users",
        "delete users",
        "delete groups",
    ]
    assert [len(stage.operations) for stage in result.stages()] == [2, 2, 3, 0, 0, 0, 0]
    assert result.summary() == {
        "create_group": 2,
        "create_user": 2,
        "reenable_user": 0,
        "update_user": 0,
        "add_membership": 3,
        "remove_membership": 0,
        "disable_user": 0,
        "delete_user": 0,
        "delete_group": 0,
    }


def test_nothing_is_planned_when_confluence_is_in_step():
    want = desired([ALICE], [("eng", True, True)], [("eng", "alice", False)])
    have = current([("alice", "Alice Adams", "ALICE@example.org", True)], ["eng"], [("eng", "alice")])
    result = plan(want, have, settings())
    assert len(result) == 0
    assert result.email_source == "confluence"


def test_drift_gives_reenable_update_and_disable_with_reasons():
    want = desired(
        [ALICE, BOB, ("carol", "Carol", "carol@example.org", False)],
    )
    have = current(
        [
            ("alice", "Alice A.", "alice@old.example.org", True),
            ("bob", "Bob Brown", "bob@example.org", False),
            ("carol", "Carol", "carol@example.org", True),
        ]
    )
    result = plan(want, have, settings())
    assert rows(result) == [
        ("reenable_user", "bob", None),
        ("update_user", "alice", None),
        ("disable_user", "carol", None),
    ]
    reenable, update, disable = result.operations
    assert reenable.reason == (
        "rule scope:all: IdP user uid=bob,ou=people,dc=example,dc=org is active "
        "and the Confluence account is disabled"
    )
    assert update.reason == (
        "rule scope:all: display name 'Alice A.' -> 'Alice Adams'; "
        "email 'alice@old.example.org' -> 'alice@example.org'"
    )
    assert update.payload == {"full_name": "Alice Adams", "email": "alice@example.org"}
    assert disable.reason == "rule scope:all: IdP user uid=carol,ou=people,dc=example,dc=org is disabled"


def test_disabled_idp_users_are_not_created_and_every_desired_user_is_accounted_for():
    dora, ed = ("dora", "Dora", "dora@example.org", False), ("ed", "Ed", "ed@example.org", False)
    want = desired([ALICE, BOB, dora, ed])
    result = plan(want, current([ALICE]), settings())
    assert rows(result) == [("create_user", "bob", None)]
    assert result.notes == ("2 users not created: disabled in the directory: dora, ed",)
    assert result.not_created.values.tolist() == [
        ["dora", "not created: disabled in the directory"],
        ["ed", "not created: disabled in the directory"],
    ]
    assert result.users == {"desired": 4, "existing": 1, "created": 1, "not created": 2}

    switched_off = plan(want, current([ALICE]), settings(users={"operations": {"create": False}}))
    assert rows(switched_off) == []
    assert switched_off.not_created.values.tolist() == [
        ["bob", "not created: users.operations.create is false"],
        ["dora", "not created: disabled in the directory"],
        ["ed", "not created: disabled in the directory"],
    ]
    assert switched_off.users == {"desired": 4, "existing": 1, "created": 0, "not created": 3}

    narrowed = plan(want, current([ALICE]), settings(), only_users=["alice", "dora"])
    assert narrowed.users == {"desired": 2, "existing": 1, "created": 0, "not created": 1}
    assert narrowed.not_created["username"].tolist() == ["dora"]


@pytest.mark.parametrize(
    ("out_of_scope", "delete_switch", "expected", "note"),
    [
        ("disable", False, [("disable_user", "zed", None)], None),
        ("delete", True, [("delete_user", "old", None), ("delete_user", "zed", None)], None),
        (
            "delete",
            False,
            [("disable_user", "zed", None)],
            "users.out_of_scope is delete but users.operations.delete is false: "
            "out-of-scope users are disabled instead",
        ),
        ("keep", False, [], None),
    ],
)
def test_out_of_scope_users_follow_the_rules(out_of_scope, delete_switch, expected, note):
    have = current(
        [ALICE, ("zed", "Zed", None, True), ("old", "Old", None, False), ("admin", "A", None, True)]
    )
    rules = {"out_of_scope": out_of_scope, "operations": {"delete": delete_switch}}
    result = plan(desired([ALICE]), have, settings(users=rules))
    assert rows(result) == expected
    if expected:
        assert result.operations[-1].reason == (
            f"no rule puts this Confluence user in scope (users.out_of_scope: {expected[0][0].split('_')[0]})"
        )
    assert (note in result.notes) if note else not any("out_of_scope" in n for n in result.notes)


def test_switched_off_operations_are_held_back_with_a_note():
    want = desired([ALICE, BOB, ("carol", "Carol", "carol@example.org", False)])
    have = current(
        [("bob", "Bobby", "bob@example.org", False), ("carol", "Carol", "carol@example.org", True)]
    )
    rules = {"operations": {"create": False, "update": False, "disable": False, "reenable": False}}
    result = plan(want, have, settings(users=rules))
    assert len(result) == 0
    assert result.notes == (
        "1 users would be created but users.operations.create is false: alice",
        "1 users would be re-enabled but users.operations.reenable is false: bob",
        "1 users would be updated but users.operations.update is false: bob",
        "1 users would be disabled but users.operations.disable is false: carol",
        "users.operations.disable is false: out-of-scope users are left as they are",
    )


def test_protected_users_and_groups_never_appear():
    want = desired(
        [ALICE, ("admin", "Admin", "admin@example.org", True)],
        [("eng", True, True), ("confluence-administrators", True, True)],
        [("eng", "alice", False), ("eng", "admin", False), ("confluence-administrators", "alice", False)],
    )
    have = current(
        [("admin", "Site Admin", "x@example.org", False), ("sysadmin", "S", None, True)],
        ["eng", "confluence-administrators"],
        [("confluence-administrators", "sysadmin"), ("eng", "admin")],
    )
    rules = {"protected": {"users": ["admin", "sysadmin"]}}
    result = plan(want, have, settings(**rules))
    assert rows(result) == [("create_user", "alice", None), ("add_membership", "alice", "eng")]
    assert result.notes == (
        "desired users include protected names left out of the plan (protected.users): admin",
        "desired groups include protected names left out of the plan (protected.groups): "
        "confluence-administrators",
    )


def test_only_managed_groups_change():
    want = desired(
        [ALICE],
        [("eng", True, True), ("wiki-readers", False, True)],
        [("eng", "alice", False), ("wiki-readers", "alice", False), ("nowhere", "alice", False)],
    )
    have = current([ALICE, ("bob", "Bob", None, True)], ["wiki-readers"], [("wiki-readers", "bob")])
    result = plan(want, have, settings(users={"out_of_scope": "keep"}))
    assert rows(result) == [("create_group", "eng", None), ("add_membership", "alice", "eng")]
    assert result.notes == (
        "2 desired memberships name groups the rules do not manage, left out: nowhere, wiki-readers",
    )


def test_new_users_only_memberships_go_to_created_users_only():
    want = desired(
        [ALICE, BOB],
        [("confluence-users", True, True)],
        [("confluence-users", "alice", True), ("confluence-users", "bob", True)],
    )
    # bob exists and left the default group: he is not put back, and not pruned either
    have = current([BOB, ("carl", "Carl", None, True)], ["confluence-users"], [("confluence-users", "carl")])
    result = plan(want, have, settings(users={"out_of_scope": "keep"}))
    assert rows(result) == [
        ("create_user", "alice", None),
        ("add_membership", "alice", "confluence-users"),
        ("remove_membership", "carl", "confluence-users"),
    ]
    assert result.operations[-1].reason == (
        "group confluence-users prunes members (rule group:confluence-users) and no rule puts carl in it"
    )


def test_pruned_groups_hold_exactly_their_mapped_members():
    carol, fay = ("carol", "Carol", "carol@example.org", False), ("fay", "Fay", "fay@example.org", False)
    want = desired(
        [ALICE, BOB, carol, fay],
        [("eng", True, True), ("docs", True, False)],
        [("eng", "alice", False), ("eng", "bob", True), ("eng", "fay", False), ("docs", "fay", False)],
    )
    have = current(
        [
            ALICE,
            BOB,
            ("carol", "Carol", "carol@example.org", False),
            ("dan", "Dan", None, True),
            ("erin", "Erin", None, True),
            ("fay", "Fay", "fay@example.org", True),
            ("gus", "Gus", None, False),
        ],
        ["eng", "docs"],
        [
            ("eng", "alice"),
            ("eng", "bob"),
            ("eng", "carol"),
            ("eng", "dan"),
            ("eng", "erin"),
            ("eng", "fay"),
            ("eng", "gus"),
            ("docs", "erin"),
            ("docs", "gus"),
        ],
    )
    # bob is kept by a new-users-only rule; fay is disabled in the IdP but still in the mapped
    # group: she stays, and is not added to docs; carol (disabled, no longer mapped), dan (a
    # leaver disabled now) and gus (disabled before, out of scope) leave the pruned eng but
    # keep docs, which only gains; erin is protected
    rules = {"users": {"operations": {"disable": True}, "out_of_scope": "disable"}}
    result = plan(want, have, settings(**rules, protected={"users": ["erin"]}))
    assert rows(result) == [
        ("remove_membership", "carol", "eng"),
        ("remove_membership", "dan", "eng"),
        ("remove_membership", "gus", "eng"),
        ("disable_user", "dan", None),
        ("disable_user", "fay", None),
    ]
    assert result.operations[0].reason == (
        "group eng prunes members (rule group:eng) and no rule puts carol in it"
    )

    result = plan(want, have, settings(users={"out_of_scope": "keep"}))
    assert [row for row in rows(result) if row[0] == "remove_membership"] == [
        ("remove_membership", "carol", "eng"),
        ("remove_membership", "dan", "eng"),
        ("remove_membership", "erin", "eng"),
        ("remove_membership", "gus", "eng"),
    ]


JSMITH_REASON = "left out: its username 'jsmith' is also the username of 'uid=JSmith,ou=people'"


@pytest.mark.parametrize(
    ("out_of_scope", "zed"),
    [
        ("disable", [("remove_membership", "zed", "eng"), ("disable_user", "zed", None)]),
        ("delete", [("delete_user", "zed", None)]),  # its memberships go with the account
        ("keep", [("remove_membership", "zed", "eng")]),
    ],
)
def test_held_users_are_left_as_they_are_while_out_of_scope_users_are_not(out_of_scope, zed):
    want = desired(
        [ALICE],
        [("eng", True, True)],
        [("eng", "alice", False)],
        held=[
            ("jsmith", JSMITH_REASON),
            ("nobody", "left out: no account"),
            ("admin", "left out: protected"),
        ],
    )
    have = current(
        [
            ALICE,
            ("jsmith", "John Smith", None, True),
            ("zed", "Zed", None, True),
            ("admin", "Admin", None, True),
        ],
        ["eng"],
        [("eng", "alice"), ("eng", "jsmith"), ("eng", "zed")],
    )
    users = {"out_of_scope": out_of_scope, "operations": {"delete": True}}
    result = plan(want, have, settings(users=users))
    assert rows(result) == zed
    assert result.notes == (
        "held 1 Confluence users the rules could not map, left as they are (no update, disable, delete or "
        f"membership change; see the rejects): jsmith ({JSMITH_REASON})",
    )


def test_memberships_of_users_not_created_are_not_added():
    want = desired([ALICE], [("eng", True, True)], [("eng", "alice", False)])
    result = plan(want, current([], ["eng"]), settings(users={"operations": {"create": False}}))
    assert rows(result) == []


def test_only_users_narrows_the_plan():
    want = desired(
        [ALICE, BOB],
        [("eng", True, True), ("ops", True, True), ("docs", True, True)],
        [("eng", "alice", False), ("ops", "bob", False), ("docs", "bob", False)],
    )
    have = current([("zed", "Zed", None, True)], ["docs"], [("docs", "zed")])
    rules = settings(limits={**OPEN, "allow_emptying_groups": True})
    result = plan(want, have, rules, only_users=["Alice", "zed"], previously_managed_groups=["docs"])
    assert rows(result) == [
        ("create_group", "eng", None),
        ("create_user", "alice", None),
        ("add_membership", "alice", "eng"),
        ("remove_membership", "zed", "docs"),
        ("disable_user", "zed", None),
    ]
    assert result.notes[-1] == "narrowed to 2 users (only_users): alice, zed"


def test_group_deletion_needs_a_limit_above_zero():
    want = desired([ALICE], [("eng", True, True), ("legacy", False, False)], [("eng", "alice", False)])
    have = current([ALICE], ["eng", "old-team", "legacy", "confluence-administrators"], [("eng", "alice")])
    before = ["eng", "Old-Team", "legacy", "gone-already", "confluence-administrators"]

    kept = plan(want, have, settings(), previously_managed_groups=before)
    assert rows(kept) == []
    assert kept.notes == (
        "1 groups were managed before and no rule produces them now; "
        "they are kept because limits.max_group_deletions is 0: old-team",
    )

    limits = {**OPEN, "max_group_deletions": 1}
    deleted = plan(want, have, Settings.model_validate({"limits": limits}), previously_managed_groups=before)
    assert rows(deleted) == [("delete_group", "old-team", None)]
    assert deleted.operations[0].reason == (
        "managed before, no rule produces it now (limits.max_group_deletions: 1)"
    )


def test_names_are_compared_in_lower_case():
    want = desired(
        [("Alice", "Alice Adams", "alice@example.org", True)],
        [("Eng", True, True)],
        [("ENG", "ALICE", False)],
    )
    have = current([("alice", "Alice Adams", "alice@example.org", True)], ["eng"], [("eng", "alice")])
    assert len(plan(want, have, settings())) == 0


def test_repeated_desired_users_are_refused():
    want = desired([ALICE, ("ALICE", "Other", "other@example.org", True)])
    with pytest.raises(
        ValueError,
        match=r"^desired users name 1 usernames more than once \(alice\); "
        r"the mapping must give each one a single row$",
    ):
        plan(want, current(), settings())


def test_operation_kinds_are_in_stage_order():
    assert [kind.value for kind in OperationKind] == [
        "create_group",
        "create_user",
        "reenable_user",
        "update_user",
        "add_membership",
        "remove_membership",
        "disable_user",
        "delete_user",
        "delete_group",
    ]
