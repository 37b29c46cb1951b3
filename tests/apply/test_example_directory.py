"""The whole path on the sandbox: a real slapd read, the mapping rules, a plan, and apply to the emulator."""

from __future__ import annotations

import pytest

from confluence_provisioning.mapping.stage import MappingResult, map_rules
from confluence_provisioning.settings import Settings
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract
from tests.apply.site import site_state, sync
from tests.sources.ldap.directories import EXAMPLE, connect

RULES = Settings.model_validate(
    {
        "source": EXAMPLE.model_dump(exclude_defaults=True),
        "groups": {"default_groups": {"new_users": ["confluence-users"]}, "on_the_fly": {"enabled": True}},
    }
)


@pytest.fixture(scope="module")
def wanted(ldap_example) -> MappingResult:
    conn = connect(ldap_example)
    try:
        idp = extract(conn, resolve_profile(RULES.source))
    finally:
        conn.unbind()
    return map_rules(idp, RULES)


def test_the_example_directory_provisions_an_empty_site_and_then_nothing(confluence, wanted):
    users, memberships = wanted.users, wanted.memberships
    active = set(users.loc[users["active"], "username"])
    assert len(active) > 150 and len(active) < len(users)  # locked accounts are not created

    first = sync(confluence, wanted, RULES)

    expected = (
        [("create_group", name, None) for name in sorted(set(wanted.groups["name"]) - {"confluence-users"})]
        + [("create_user", name, None) for name in sorted(active)]
        + sorted(
            (
                ("add_membership", user, group)
                for group, user in zip(memberships["group"], memberships["username"], strict=True)
                if user in active
            ),
            key=lambda op: (op[2], op[1]),
        )
    )
    assert [(op.kind.value, op.target, op.group) for op in first.plan.operations] == expected
    assert first.result.ok, first.result.summary()
    assert first.writes == len(expected)

    state = site_state(confluence)
    assert state["users"] == {
        name: (display, email, True)
        for name, display, email, is_active in zip(
            users["username"], users["display_name"], users["email"], users["active"], strict=True
        )
        if is_active
    }
    assert state["groups"] == set(wanted.groups["name"]) | {"confluence-administrators"}
    assert state["memberships"] == {op[2:0:-1] for op in expected if op[0] == "add_membership"}

    second = sync(confluence, wanted, RULES)
    assert len(second.plan) == 0
    assert second.writes == 0


def test_an_account_the_rules_cannot_name_is_held_not_disabled(confluence, wanted):
    # JSmith and the contractor jsmith both map to jsmith: the account is theirs to sort out
    assert "jsmith" in set(wanted.held["username"])
    site = confluence.directory
    site.create_user("jsmith", "John Smith", "john.smith@example.com", "pw")
    site.create_group("developers")
    site.add_member("jsmith", "developers")

    run = sync(confluence, wanted, RULES)

    assert run.result.ok, run.result.summary()
    assert [op.describe() for op in run.plan.operations if op.target == "jsmith"] == []
    [held] = [note for note in run.plan.notes if note.startswith("held 1 Confluence users")]
    assert ": jsmith (left out: its username 'jsmith' is also the username of" in held
    state = site_state(confluence)
    assert state["users"]["jsmith"] == ("John Smith", "john.smith@example.com", True)
    assert ("developers", "jsmith") in state["memberships"]
