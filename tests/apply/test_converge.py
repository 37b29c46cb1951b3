"""Plan and apply over HTTP against the emulator: the site ends as desired; a second run writes nothing."""

from __future__ import annotations

from confluence_provisioning.apply.applier import apply
from tests.apply.site import FAST_RETRY, connect, desired_state, settings, site_state, sync
from tests.plan.states import desired

PEOPLE = [
    ("alice", "Alice Adams", "alice@example.org", True),
    ("bob", "Bob Brown", "bob@example.org", True),
    ("carol", "Carol Clark", "carol@example.org", True),
    ("dan", "Dan Drake", "dan@example.org", False),  # disabled in the IdP: never created
]
WANT = desired(
    PEOPLE,
    [("eng", True, True), ("docs", True, True), ("confluence-users", True, False)],
    [
        ("eng", "alice", False),
        ("eng", "bob", False),
        ("docs", "carol", False),
        ("confluence-users", "alice", True),
        ("confluence-users", "bob", True),
        ("confluence-users", "carol", True),
    ],
)


def test_an_empty_site_is_provisioned_and_a_second_run_writes_nothing(confluence):
    first = sync(confluence, WANT, settings())

    assert [(op.kind.value, op.target, op.group) for op in first.plan.operations] == [
        ("create_group", "docs", None),
        ("create_group", "eng", None),
        ("create_user", "alice", None),
        ("create_user", "bob", None),
        ("create_user", "carol", None),
        ("add_membership", "alice", "confluence-users"),
        ("add_membership", "bob", "confluence-users"),
        ("add_membership", "carol", "confluence-users"),
        ("add_membership", "carol", "docs"),
        ("add_membership", "alice", "eng"),
        ("add_membership", "bob", "eng"),
    ]
    assert first.result.ok, first.result.summary()
    assert first.result.counts() == {
        "create_group": {"applied": 2},
        "create_user": {"applied": 3},
        "add_membership": {"applied": 6},
    }
    assert first.writes == 11
    expected = desired_state(WANT)
    expected["users"].pop("dan")
    assert site_state(confluence) == expected
    assert all(user.password for user in map(confluence.directory.user, ["alice", "bob", "carol"]))

    second = sync(confluence, WANT, settings())
    assert len(second.plan) == 0
    assert second.writes == 0
    assert site_state(confluence) == expected


def test_drift_is_repaired(confluence):
    site = confluence.directory
    site.create_user("alice", "Alice A.", "alice@old.example.org", "pw")
    site.create_user("bob", "Bob Brown", "bob@example.org", "pw")
    site.set_active("bob", False)
    site.create_user("dan", "Dan Drake", "dan@example.org", "pw")
    site.create_user("zoe", "Zoe Local", "zoe@example.org", "pw")
    site.create_group("eng")
    for group, user in [("eng", "alice"), ("eng", "zoe"), ("eng", "dan")]:
        site.add_member(user, group)

    run = sync(confluence, WANT, settings())
    assert run.result.ok, run.result.summary()
    assert run.plan.summary() == {
        "create_group": 1,  # docs
        "create_user": 1,  # carol
        "reenable_user": 1,  # bob
        "update_user": 1,  # alice
        "add_membership": 3,  # bob to eng; carol to docs and (as a new user) confluence-users
        "remove_membership": 2,  # eng prunes: zoe (out of scope) and dan (disabled) leave it too
        "disable_user": 2,  # dan (IdP), zoe (out of scope)
        "delete_user": 0,
        "delete_group": 0,
    }
    state = site_state(confluence)
    assert state["users"] == {
        "alice": ("Alice Adams", "alice@example.org", True),
        "bob": ("Bob Brown", "bob@example.org", True),
        "carol": ("Carol Clark", "carol@example.org", True),
        "dan": ("Dan Drake", "dan@example.org", False),
        "zoe": ("Zoe Local", "zoe@example.org", False),
    }
    existing_users_left_alone = {("confluence-users", "alice"), ("confluence-users", "bob")}
    assert state["memberships"] == desired_state(WANT)["memberships"] - existing_users_left_alone
    assert sync(confluence, WANT, settings()).writes == 0


def test_applying_a_finished_plan_again_changes_nothing(confluence):
    first = sync(confluence, WANT, settings())
    before = site_state(confluence)
    with connect(confluence) as client:
        again = apply(first.plan, client, settings(), retry=FAST_RETRY)
    assert again.ok, again.summary()
    assert again.counts() == {
        "create_group": {"already-true": 2},
        "create_user": {"already-true": 3},
        "add_membership": {"applied": 6},  # PUT of a membership is idempotent: 204 again
    }
    assert site_state(confluence) == before


def test_where_emails_are_hidden_a_rename_keeps_the_email(confluence):
    confluence.emulator.update_settings({"show_emails": False})
    confluence.directory.create_user("alice", "Alice A.", "alice@elsewhere.example.org", "pw")
    want = desired([("alice", "Alice Adams", "alice@example.org", True)])

    run = sync(confluence, want, settings())

    assert run.plan.email_source == "none"
    assert run.result.counts() == {"update_user": {"applied": 1}}
    assert site_state(confluence)["users"] == {"alice": ("Alice Adams", "alice@elsewhere.example.org", True)}
