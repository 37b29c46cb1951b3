"""Incremental reads: after a series of changes they give exactly the frames of a full read."""

from __future__ import annotations

import time

import pandas as pd

from confluence_provisioning.sources.okta import reading
from sandbox.okta import OktaServer
from tests.sources.okta.conftest import client, read, settings


def _assert_same(left: reading.OktaState, right: reading.OktaState, rules) -> None:
    a, b = reading.snapshot(left, rules), reading.snapshot(right, rules)
    for name in ("users", "groups", "memberships", "rejects"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def test_incremental_equals_full_after_a_series_of_changes(okta_example: OktaServer) -> None:
    rules = settings(extra_attributes=["department"], app_groups=True, everyone_group=True)
    directory = okta_example.directory
    directory.set_status("ceo@example.com", "STAGED")
    state = read(okta_example, rules)
    time.sleep(1.05)  # the cursor is the Date of the first answer: whole seconds

    rounds = [
        lambda: (  # a hire into two groups, a leaver, a rename
            directory.create_user(
                {"login": "new@example.com", "email": "new@example.com", "lastName": "New"}
            ),
            directory.add_member("engineering", "new@example.com"),
            directory.add_member("sales", "new@example.com"),
            directory.set_status("afischer@example.com", "DEPROVISIONED"),
            directory.update_profile("cfo@example.com", {"displayName": "Bob Kline", "department": "board"}),
        ),
        lambda: (  # deactivated and deleted between two reads; a group moved; an app group appears
            directory.set_status("cmo@example.com", "DEPROVISIONED"),
            directory.delete_user("cmo@example.com"),
            directory.remove_member("sales", directory.member_ids("sales")[0]),
            directory.add_member("marketing", directory.member_ids("sales")[0]),
            directory.create_group("AD Admins", "APP_GROUP"),
            directory.add_member("AD Admins", "coo@example.com"),
            directory.set_status("ceo@example.com", "ACTIVE"),
        ),
        lambda: (  # a group deleted, another renamed, a suspension lifted, a user deleted outright
            directory.delete_group("docker"),
            directory.rename_group("qa", "quality"),
            directory.set_status("epark@example.com", "ACTIVE"),
            directory.delete_user("coo@example.com"),
        ),
    ]
    for change in rounds:
        change()
        with client(okta_example) as okta:
            state, report = reading.read_incremental(okta, rules, state)
        assert report.kind == "incremental"
        _assert_same(state, read(okta_example, rules), rules)
        time.sleep(1.05)


def test_an_incremental_read_with_nothing_changed_is_a_few_requests(okta_example: OktaServer) -> None:
    rules = settings()
    time.sleep(1.05)  # the org was loaded just now: a cursor in the same second would see it all
    state = read(okta_example, rules)
    time.sleep(1.05)
    okta_example.emulator.counters.clear()
    with client(okta_example) as okta:
        again, report = reading.read_incremental(okta, rules, state)
    # one page of changed users (none), one of groups: no member pages, no walk of Everyone
    assert okta_example.emulator.counters.as_json()["by_route"] == {
        "GET /api/v1/users": 1,
        "GET /api/v1/groups": 1,
    }
    assert (report.changed_users, report.groups_reread) == (0, 0)
    _assert_same(again, state, rules)
