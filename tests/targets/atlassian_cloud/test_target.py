"""Plans carried out on the Cloud emulator by the shared apply engine through the Cloud performer:
final state, idempotency, batched memberships, 409 resolved by a read, dry run, verified domains."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd

from confluence_provisioning.apply.applier import ApplyResult, apply
from confluence_provisioning.plan.planner import Plan, plan
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.atlassian_cloud.performer import CloudPerformer
from confluence_provisioning.targets.atlassian_cloud.snapshot import to_snapshot
from confluence_provisioning.targets.atlassian_cloud.target import AtlassianCloud
from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.apply.site import FAST_RETRY, OPEN_LIMITS, rows
from tests.plan.states import State, desired
from tests.targets.atlassian_cloud.conftest import clear_counters, client_of, counters

RULES = Settings.model_validate(
    {"limits": {**OPEN_LIMITS, "allow_emptying_groups": True}, "target": {"kind": "atlassian_cloud"}}
)


def people(count: int, domain: str = "example.com") -> State:
    """``count`` active users in group staff, every other one in group eng too."""
    users = [(f"user{i:03d}@{domain}", f"User {i}", f"user{i:03d}@{domain}", True) for i in range(count)]
    memberships = [("staff", name, False) for name, *_ in users]
    memberships += [("eng", name, False) for i, (name, *_) in enumerate(users) if i % 2]
    return desired(users, [("staff", True, True), ("eng", True, True)], memberships)


def sync(server: CloudEmulatorServer, wanted: State, **options: Any) -> tuple[Plan, ApplyResult, int]:
    """Snapshot, plan and apply as the DAG does; the writes the apply sent."""
    verified = options.pop("verified_domains", frozenset())
    with client_of(server, **options) as client:
        the_plan = plan(wanted, to_snapshot(client.users(), client.groups()), RULES)
        httpx.delete(f"{server.admin_url}/counters")
        result = apply(the_plan, CloudPerformer(client, verified), RULES, retry=FAST_RETRY)
    methods = counters(server)["by_method"]
    return the_plan, result, sum(n for method, n in methods.items() if method != "GET")


def cloud_state(server: CloudEmulatorServer) -> dict[str, Any]:
    state = server.state
    names = {user["id"]: user["userName"] for user in state["Users"]}
    return {
        "users": {
            u["userName"]: (u.get("displayName"), u["emails"][0]["value"], u["active"])
            for u in state["Users"]
        },
        "groups": {group["displayName"] for group in state["Groups"]},
        "memberships": {
            (group["displayName"], names[member["value"]])
            for group in state["Groups"]
            for member in group.get("members", [])
        },
    }


def test_a_plan_provisions_the_directory_then_nothing_is_left_to_do(cloud: CloudEmulatorServer) -> None:
    wanted = people(30)
    the_plan, result, writes = sync(cloud, wanted)
    assert result.ok, result.summary()
    state = cloud_state(cloud)
    assert state["groups"] == {"staff", "eng"}
    assert len(state["users"]) == 30 and all(active for *_, active in state["users"].values())
    assert state["memberships"] == set(
        zip(wanted.memberships["group"], wanted.memberships["username"], strict=True)
    )
    # 2 groups + 30 users + one PATCH per group for 45 memberships
    assert the_plan.summary()["add_membership"] == 45
    assert writes == 2 + 30 + 2
    assert cloud.state["Users"][0]["externalId"] == "id-user000@example.com"
    again, result, writes = sync(cloud, wanted)
    assert len(again) == 0 and writes == 0


def test_leavers_are_disabled_and_members_removed_in_batches(cloud: CloudEmulatorServer) -> None:
    sync(cloud, people(30))
    wanted = people(30)
    in_eng = wanted.memberships["group"] == "eng"
    fewer = State(
        wanted.users, wanted.groups, wanted.memberships[~in_eng].reset_index(drop=True), wanted.held
    )
    fewer = State(fewer.users.head(25), fewer.groups, fewer.memberships, fewer.held)
    the_plan, result, writes = sync(cloud, fewer, member_batch=4)
    assert result.ok, result.summary()
    removals = the_plan.frame[the_plan.frame["kind"] == "remove_membership"]
    per_group = removals["group"].value_counts().to_dict()
    assert the_plan.summary()["disable_user"] == 5
    assert per_group["eng"] >= 12  # at least the 12 active members of eng
    batches = sum(-(-count // 4) for count in per_group.values())
    assert writes == batches + 5  # removals in PATCHes of at most 4 members, then 5 disables
    state = cloud_state(cloud)
    assert state["users"]["user025@example.com"][2] is False
    assert {group for group, _ in state["memberships"]} >= {"staff"}
    assert not any(group == "eng" and int(user[4:7]) < 25 for group, user in state["memberships"])


def test_a_user_created_by_someone_else_is_taken_over_not_created_twice(cloud: CloudEmulatorServer) -> None:
    with client_of(cloud) as client:
        client.create_user("user000@example.com", "user000@example.com", "Someone", external_id=None)
    wanted = people(1)
    the_plan, result, _ = sync(cloud, wanted)
    assert [op.kind.value for op in the_plan.operations] == [
        "create_group",
        "create_group",
        "update_user",
        "add_membership",
    ]
    assert result.ok, result.summary()
    assert len(cloud.state["Users"]) == 1


def test_a_lost_answer_to_a_create_ends_already_true(cloud: CloudEmulatorServer) -> None:
    cloud.emulator.set_faults(
        [{"method": "POST", "path": "*/Users", "drop_rate": 1.0, "after": True, "limit": 1}]
    )
    _, result, _ = sync(cloud, people(2))
    creates = [status for operation, _, status, _ in rows(result) if operation == "create_user"]
    assert sorted(creates) == ["already-true", "applied"]  # one answer was lost, its retry got a 409
    assert result.ok and len(cloud.state["Users"]) == 2


def test_an_unverified_domain_is_refused_before_any_request(cloud: CloudEmulatorServer) -> None:
    wanted = desired(
        [
            ("ann@example.com", "Ann", "ann@example.com", True),
            ("eve@elsewhere.net", "Eve", "eve@elsewhere.net", True),
        ]
    )
    _, result, writes = sync(cloud, wanted, verified_domains=frozenset({"example.com"}))
    assert rows(result) == [
        ("create_user", "ann@example.com", "applied", ""),
        (
            "create_user",
            "eve@elsewhere.net",
            "failed",
            "create user 'eve@elsewhere.net': the email eve@elsewhere.net is not on a verified domain of the "
            "organization (example.com); not sent",
        ),
    ]
    assert writes == 1


def test_without_the_list_atlassian_s_own_refusal_is_the_reason(cloud: CloudEmulatorServer) -> None:
    wanted = desired([("eve@elsewhere.net", "Eve", "eve@elsewhere.net", True)])
    _, result, _ = sync(cloud, wanted)
    assert rows(result)[0][3] == (
        "create user 'eve@elsewhere.net': HTTP 400: invalidValue: The email eve@elsewhere.net is not on a "
        "verified domain of the organization"
    )


def test_a_dry_run_sends_no_write(cloud: CloudEmulatorServer) -> None:
    _, result, writes = sync(cloud, people(6), dry_run=True)
    assert writes == 0
    assert set(result.results["status"]) == {"skipped-dry-run"}
    assert [(request.method, request.path.split("/")[1]) for request in result.recorded] == [
        ("POST", "Groups"),
        ("POST", "Groups"),
        *[("POST", "Users")] * 6,
        ("PATCH", "Groups"),
        ("PATCH", "Groups"),
    ]
    assert cloud.state == {"Users": [], "Groups": []}


def test_faults_converge_exactly(cloud: CloudEmulatorServer) -> None:
    """5xx, 429 bursts with Retry-After and answers lost after the write: the same state, then nothing."""
    cloud.emulator.set_faults(
        {
            "seed": 11,
            "rules": [
                {"method": "PATCH", "error_rate": 0.3, "statuses": [500, 503]},
                {"method": "POST", "drop_rate": 0.2, "after": True},
                {"method": "GET", "burst_429": {"rate": 0.05, "length": 2, "retry_after": 0}},
            ],
        }
    )
    wanted = people(24)
    _, result, _ = sync(cloud, wanted, member_batch=5)
    assert result.ok, result.summary()
    assert sum(result.results["attempts"] > 1) > 0  # the faults did fire
    cloud.emulator.set_faults([])
    assert cloud_state(cloud)["memberships"] == set(
        zip(wanted.memberships["group"], wanted.memberships["username"], strict=True)
    )
    again, _, writes = sync(cloud, wanted)
    assert len(again) == 0 and writes == 0


def test_the_accounts_the_run_read_are_not_looked_up_again(cloud: CloudEmulatorServer) -> None:
    """``Target.apply``'s ``accounts`` (the snapshot's SCIM ids): 15 new members of eng cost one
    PATCH and the group's lookup, no read of a user; without them, a filtered read each."""
    baseline = people(30)
    staff = baseline.memberships[baseline.memberships["group"] == "staff"]
    all_in_eng = pd.concat([staff, staff.assign(group="eng")], ignore_index=True)
    wanted = State(baseline.users, baseline.groups, all_in_eng, baseline.held)
    reads: dict[bool, dict[str, int]] = {}
    for with_accounts in (True, False):
        sync(cloud, baseline)
        with client_of(cloud) as client:
            current = to_snapshot(client.users(), client.groups())
            the_plan = plan(wanted, current, RULES)
            accounts = dict(zip(current.accounts["user_id"], current.accounts["account_id"], strict=True))
            clear_counters(cloud)
            result = AtlassianCloud(RULES, client, frozenset()).apply(
                the_plan.operations, accounts=accounts if with_accounts else None
            )
        assert result.ok, result.summary()
        assert {kind: n for kind, n in the_plan.summary().items() if n} == {"add_membership": 15}
        reads[with_accounts] = counters(cloud)["by_route"]
    users, groups = "GET /scim/directory/{directoryId}/Users", "GET /scim/directory/{directoryId}/Groups"
    assert users not in reads[True] and reads[False][users] == 15
    for by_route in reads.values():
        assert by_route[groups] == 1  # eng, by name
        assert by_route["PATCH /scim/directory/{directoryId}/Groups/{id}"] == 1
