"""An apply to Cloud SIGKILLed halfway through creating users: the next run converges exactly, with one
account per user, and sends again only what was in flight at the kill (a lost create is answered 409
and confirmed by a read). As ``tests/apply/test_killed_run.py`` does for Data Center."""

from __future__ import annotations

import time
from pathlib import Path

from confluence_provisioning.apply.applier import apply
from confluence_provisioning.plan.planner import plan
from confluence_provisioning.targets.atlassian_cloud.performer import CloudPerformer
from confluence_provisioning.targets.atlassian_cloud.snapshot import to_snapshot
from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.apply.site import FAST_RETRY
from tests.apply.test_killed_run import apply_until_killed, reported_done
from tests.targets.atlassian_cloud.conftest import client_of
from tests.targets.atlassian_cloud.test_target import RULES, cloud_state, people

WANT = people(40)  # 40 users in staff, every other one in eng too
MAX_IN_FLIGHT = 4
LATENCY_MS = 10  # each POST /Users: the stage takes about 40 / 4 * 10 ms, time to be killed in
KILL_AFTER = 12  # creates served before the kill: well inside the stage
CREATE = "POST /scim/directory/{directoryId}/Users"


def creates(server: CloudEmulatorServer) -> int:
    return server.emulator.counters.as_json()["by_route"].get(CREATE, 0)  # in-process: polled every ms


def settled(server: CloudEmulatorServer) -> int:
    """The creates served, once the requests in flight at the kill have landed (none for 0.2 s)."""
    seen, deadline = creates(server), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = creates(server)
        if now == seen:
            return now
        seen = now
    raise AssertionError("the emulator kept serving creates after the kill")


def test_a_killed_apply_is_finished_by_the_next_run(cloud: CloudEmulatorServer, tmp_path: Path) -> None:
    with client_of(cloud) as client:
        first_plan = plan(WANT, to_snapshot(client.users(), client.groups()), RULES)
    planned = {op.target for op in first_plan.operations if op.kind.value == "create_user"}
    assert len(planned) == 40
    plan_file = tmp_path / "plan.parquet"
    first_plan.to_frame().to_parquet(plan_file)
    cloud.emulator.set_faults([{"method": "POST", "path": "*/Users", "latency_ms": LATENCY_MS}])
    cloud.emulator.counters.clear()

    args = ("atlassian_cloud", cloud.base_url, plan_file, MAX_IN_FLIGHT)
    env = {"SCIM_TOKEN": cloud.config.token}
    reported = apply_until_killed(args, env, lambda: creates(cloud) >= KILL_AFTER, tmp_path)

    done = {target for _, target in reported_done(reported, "create_user")}
    served_at_kill = settled(cloud)
    landed = {user["userName"] for user in cloud.state["Users"]}
    assert KILL_AFTER <= served_at_kill < len(planned)
    assert done <= landed and len(landed) <= served_at_kill

    # the next run plans from the directory as the kill left it
    cloud.emulator.set_faults([])
    with client_of(cloud) as client:
        second_plan = plan(WANT, to_snapshot(client.users(), client.groups()), RULES)
        second = apply(second_plan, CloudPerformer(client), RULES, retry=FAST_RETRY)
    assert second.ok, second.summary()
    recreated = {op.target for op in second_plan.operations if op.kind.value == "create_user"}
    assert recreated == planned - landed  # nothing the first run created is created again
    assert recreated & done == set()

    state = cloud_state(cloud)
    assert set(state["users"]) == planned and len(cloud.state["Users"]) == len(planned)  # one account each
    assert all(user.get("externalId") for user in cloud.state["Users"])
    assert state["memberships"] == set(
        zip(WANT.memberships["group"], WANT.memberships["username"], strict=True)
    )
    # each user was POSTed once, but those in flight at the kill (a second POST got a 409)
    assert len(planned) <= creates(cloud) <= len(planned) + MAX_IN_FLIGHT
    with client_of(cloud) as client:
        assert len(plan(WANT, to_snapshot(client.users(), client.groups()), RULES)) == 0
