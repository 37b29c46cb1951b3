"""Dry run: reads only, nothing written, and the recorded requests are the plan."""

from __future__ import annotations

import logging

from tests.apply.site import settings, site_state, sync
from tests.plan.states import desired

WANT = desired(
    [("alice", "Alice Adams", "alice@example.org", True), ("bob", "Bob Brown", "bob@example.org", True)],
    [("eng", True, True)],
    [("eng", "alice", False), ("eng", "bob", False)],
)


def expected_request(op) -> tuple:
    """What the contract says each operation sends (the password never recorded)."""
    match op.kind.value:
        case "create_group":
            return ("POST", "/rest/api/admin/group", {"name": op.target})
        case "create_user":
            body = {"userName": op.target, "fullName": op.payload["full_name"], "email": op.payload["email"]}
            return ("POST", "/rest/api/admin/user", {**body, "notifyViaEmail": False})
        case "add_membership":
            return ("PUT", f"/rest/api/user/{op.target}/group/{op.group}", None)
        case "disable_user":
            return ("PUT", f"/rest/api/admin/user/{op.target}/disable", None)


def test_a_dry_run_sends_no_write_and_records_the_plan(confluence):
    confluence.directory.create_user("zed", "Zed", "zed@example.org", "pw")
    before = site_state(confluence)

    run = sync(confluence, WANT, settings(), dry_run=True)

    assert confluence.emulator.counters.as_json()["total"] == 0  # counted from the apply on: nothing
    assert run.writes == 0
    assert site_state(confluence) == before
    assert set(run.result.results["status"]) == {"skipped-dry-run"}
    assert run.result.results["http_status"].isna().all()
    assert len(run.result.results) == len(run.plan) == 6
    recorded = sorted(((r.method, r.path, r.json) for r in run.result.recorded), key=repr)
    assert recorded == sorted(map(expected_request, run.plan.operations), key=repr)


def test_passwords_are_never_logged(confluence, caplog):
    caplog.set_level(logging.DEBUG)
    run = sync(confluence, WANT, settings())
    assert run.result.ok
    password = confluence.directory.user("alice").password
    assert password and len(password) >= 24
    assert password not in caplog.text
    assert password not in run.result.results.to_csv()


def test_new_users_can_be_invited_by_email_instead(confluence):
    run = sync(
        confluence,
        WANT,
        settings(target={"kind": "confluence_data_center", "new_users": {"notify_via_email": True}}),
    )
    assert run.result.ok, run.result.summary()
    assert confluence.directory.user("alice").password is None
