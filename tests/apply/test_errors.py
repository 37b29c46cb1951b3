"""Confluence says no: each refusal gives its clear error, and what depends on it is skipped."""

from __future__ import annotations

import pytest

from confluence_provisioning.apply.applier import ApplyError, apply
from confluence_provisioning.plan.planner import GuardError, plan
from tests.apply.site import FAST_RETRY, SERIAL, connect, rows, settings, site_state, sync, team, writes


def test_no_licence_seat_stops_user_creation_and_nothing_else(confluence):
    confluence.emulator.update_settings({"seats": 3})  # the admin and two more
    run = sync(confluence, team("alice", "bob", "carol", "dan"), SERIAL)

    refused = "create user 'carol': HTTP 402: No more licences available: the licence allows 3 users"
    assert rows(run.result) == [
        ("create_group", "eng", "applied", ""),
        ("create_user", "alice", "applied", ""),
        ("create_user", "bob", "applied", ""),
        ("create_user", "carol", "failed", refused),
        (
            "create_user",
            "dan",
            "skipped",
            f"not sent: no licence seat is left ({refused}); "
            "free seats or extend the licence, then run again",
        ),
        ("add_membership", "alice", "applied", ""),
        ("add_membership", "bob", "applied", ""),
        (
            "add_membership",
            "carol",
            "skipped",
            "not sent: user was not created: "
            "HTTP 402: No more licences available: the licence allows 3 users",
        ),
        (
            "add_membership",
            "dan",
            "skipped",
            f"not sent: user was not created: no licence seat is left ({refused}); "
            "free seats or extend the licence, then run again",
        ),
    ]
    assert run.result.results.loc[3, "http_status"] == 402
    with pytest.raises(ApplyError) as caught:
        run.result.raise_for_failures()
    assert str(caught.value) == (
        "1 operations failed or were not attempted (create user carol)\n"
        "9 operations: 5 applied, 1 failed, 3 skipped\n"
        f"failed: create user carol: {refused}"
    )


def test_a_username_confluence_refuses_fails_alone(confluence):
    run = sync(confluence, team("alice", "bad,name"), settings())
    failed = run.result.failed
    assert list(zip(failed["target"], failed["http_status"], failed["error"], strict=True)) == [
        (
            "bad,name",
            400,
            "create user 'bad,name': HTTP 400: "
            "The userName should not contain any of these characters \\ , + < > ' \"",
        ),
    ]
    skipped = run.result.results[run.result.results["status"] == "skipped"]
    assert list(zip(skipped["target"], skipped["error"], strict=True)) == [
        (
            "bad,name",
            "not sent: user was not created: HTTP 400: "
            "The userName should not contain any of these characters \\ , + < > ' \"",
        )
    ]
    assert sorted(site_state(confluence)["users"]) == ["alice"]


def test_refused_credentials_stop_the_run(confluence):
    want = team("alice", "bob")
    with connect(confluence) as reader:
        the_plan = plan(want, reader.snapshot(["eng"]), SERIAL)
    confluence.emulator.counters.clear()
    with connect(confluence, password="wrong") as client:
        result = apply(the_plan, client, SERIAL, retry=FAST_RETRY)

    refused = "create group 'eng': HTTP 401: Authentication failed: wrong username or password"
    skipped = f"not sent: Confluence refused the credentials earlier in this run ({refused})"
    assert rows(result) == [
        ("create_group", "eng", "failed", refused),
        ("create_user", "alice", "skipped", skipped),
        ("create_user", "bob", "skipped", skipped),
        ("add_membership", "alice", "skipped", skipped),
        ("add_membership", "bob", "skipped", skipped),
    ]
    assert writes(confluence) == 1


def test_a_broken_guard_writes_nothing_and_the_override_passes(confluence):
    for i in range(30):
        confluence.directory.create_user(f"local{i:02d}", f"Local {i}", f"local{i:02d}@example.org", "pw")
    before = site_state(confluence)
    confluence.emulator.counters.clear()
    with pytest.raises(
        GuardError, match=r"^the plan breaks 1 safety guard; nothing was applied:\n- 30 users"
    ):
        sync(confluence, team("alice"), settings(limits={}))
    assert writes(confluence) == 0
    assert site_state(confluence) == before

    run = sync(confluence, team("alice"), settings(limits={}), allow_over_limits=True)
    assert run.result.counts()["disable_user"] == {"applied": 30}
