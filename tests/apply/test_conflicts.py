"""409 on a create is verified with a read: already true only when the user or group is there as wanted."""

from __future__ import annotations

import pytest

from confluence_provisioning.apply.applier import apply
from confluence_provisioning.plan.planner import plan
from tests.apply.site import FAST_RETRY, SERIAL, connect, desired_state, rows, site_state, sync, team


@pytest.mark.parametrize(
    ("path", "operation", "read"),
    [
        ("/rest/api/admin/user", "create_user", "GET /rest/api/user"),
        ("/rest/api/admin/group", "create_group", "GET /rest/api/group/{groupName}/member"),
    ],
)
def test_a_create_whose_answer_was_lost_is_found_done_on_the_retry(confluence, path, operation, read):
    # the create happens, its answer is a 500: the retry gets 409 and the read finds it there
    confluence.emulator.set_faults(
        [{"method": "POST", "path": path, "error_rate": 1, "statuses": [500], "after": True, "limit": 1}]
    )
    run = sync(confluence, team("alice"), SERIAL)

    assert run.result.ok, run.result.summary()
    row = run.result.results.set_index("operation").loc[operation]
    assert (row["status"], row["http_status"], row["attempts"]) == ("already-true", 409, 2)
    assert confluence.emulator.counters.as_json()["by_route"][read] == 1
    assert site_state(confluence) == desired_state(team("alice"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/rest/api/admin/user",
            [
                ("create_group", "eng", "applied", ""),
                (
                    "create_user",
                    "alice",
                    "failed",
                    "create user 'alice': HTTP 409: Injected fault, but no user alice can be read back",
                ),
                (
                    "add_membership",
                    "alice",
                    "skipped",
                    "not sent: user was not created: "
                    "HTTP 409: Injected fault, but no user alice can be read back",
                ),
            ],
        ),
        (
            "/rest/api/admin/group",
            [
                (
                    "create_group",
                    "eng",
                    "failed",
                    "create group 'eng': HTTP 409: Injected fault, but no group eng can be read back",
                ),
                ("create_user", "alice", "applied", ""),
                (
                    "add_membership",
                    "alice",
                    "skipped",
                    "not sent: group was not created: "
                    "HTTP 409: Injected fault, but no group eng can be read back",
                ),
            ],
        ),
    ],
)
def test_a_409_for_something_that_is_not_there_fails(confluence, path, expected):
    confluence.emulator.set_faults([{"method": "POST", "path": path, "error_rate": 1, "statuses": [409]}])
    run = sync(confluence, team("alice"), SERIAL)

    assert rows(run.result) == expected
    assert run.result.failed["http_status"].tolist() == [409]


def test_a_409_for_a_deactivated_user_fails_and_the_next_run_reenables_it(confluence):
    want = team("alice")
    with connect(confluence) as client:
        the_plan = plan(want, client.snapshot(["eng"]), SERIAL)
        # another admin creates and deactivates alice between plan and apply
        confluence.directory.create_user("alice", "Alice", "alice@example.org", "pw")
        confluence.directory.set_active("alice", False)
        result = apply(the_plan, client, SERIAL, retry=FAST_RETRY)

    assert rows(result) == [
        ("create_group", "eng", "applied", ""),
        (
            "create_user",
            "alice",
            "failed",
            "create user 'alice': HTTP 409: A user with username alice already exists, but user alice "
            "is deactivated; the next run re-enables it if users.operations.reenable allows",
        ),
        (
            "add_membership",
            "alice",
            "skipped",
            "not sent: user was not created: HTTP 409: A user with username alice already exists, but user "
            "alice is deactivated; the next run re-enables it if users.operations.reenable allows",
        ),
    ]
    assert site_state(confluence)["users"]["alice"] == ("Alice", "alice@example.org", False)

    again = sync(confluence, want, SERIAL)
    assert {kind: n for kind, n in again.plan.summary().items() if n} == {
        "reenable_user": 1,
        "add_membership": 1,
    }
    assert again.result.ok, again.result.summary()
    assert site_state(confluence) == desired_state(want)
