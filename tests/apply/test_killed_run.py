"""A run SIGKILLed halfway through the membership stage: the next run converges, and sends again
only what was in flight at the kill (membership PUTs, which are idempotent).

The in-process cancel of ``test_interrupted`` lets the run stop cleanly; here the applying process
dies at an arbitrary point, with requests in flight, as an Airflow worker whose pod is evicted would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from confluence_provisioning.apply.applier import apply
from confluence_provisioning.plan.operations import Operation
from confluence_provisioning.plan.planner import plan
from sandbox.confluence import EmulatorServer
from tests.apply.site import FAST_RETRY, connect, desired_state, people, settings, site_state

ROOT = Path(__file__).resolve().parents[2]
WANT = people(200, 4)  # 200 users in 4 teams: 300 memberships
MAX_IN_FLIGHT = 8
LATENCY_MS = 10  # each membership PUT: the stage takes about 300 / 8 * 10 ms, time to be killed in
KILL_AFTER = 80  # membership PUTs served before the kill: well inside the stage
MEMBERSHIP_PUT = "PUT /rest/api/user/{username}/group/{groupName}"
TIMEOUT = 30.0
CHILD = "tests.apply.apply_in_child"


def apply_until_killed(
    args: tuple[str, str, Path, int], env: dict[str, str], far_enough: Callable[[], bool], folder: Path
) -> Path:
    """Run ``apply_in_child`` with args (kind, base URL, plan file, max in flight) and SIGKILL it once
    ``far_enough()``; the file of what it reported done."""
    reported = folder / "done.tsv"
    with reported.open("w") as stdout, (folder / "stderr.txt").open("w+") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", CHILD, *map(str, args)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=stdout,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            while not far_enough():
                stderr.seek(0)
                assert child.poll() is None, f"the run ended before the kill:\n{stderr.read()}"
                assert time.monotonic() < deadline, "the apply did not get far enough"
                time.sleep(0.001)
        finally:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    return reported


def reported_done(reported: Path, operation: str) -> set[tuple[str, str]]:
    """(group, target) of each operation of the kind the child heard was done (apply_in_child)."""
    lines = (line.split("\t") for line in reported.read_text().splitlines())
    return {(group, target) for kind, target, group in lines if kind == operation}


def membership_puts(server: EmulatorServer) -> int:
    return server.emulator.counters.as_json()["by_route"].get(MEMBERSHIP_PUT, 0)


def memberships(operations: Iterable[Operation]) -> set[tuple[str, str]]:
    return {(op.group, op.target) for op in operations if op.kind.value == "add_membership"}


def test_a_killed_run_is_finished_by_the_next_one_without_resending_what_was_done(confluence, tmp_path):
    rules = settings(target={"kind": "confluence_data_center", "max_in_flight": MAX_IN_FLIGHT})
    confluence.emulator.set_faults(
        [{"method": "PUT", "path": "/rest/api/user/*/group/*", "latency_ms": LATENCY_MS}]
    )
    with connect(confluence) as client:
        first_plan = plan(WANT, client.snapshot(WANT.groups["name"]), rules)
    planned = memberships(first_plan.operations)
    assert first_plan.summary()["add_membership"] == len(planned) == 300
    plan_file = tmp_path / "plan.parquet"
    first_plan.to_frame().to_parquet(plan_file)

    confluence.emulator.counters.clear()
    username, password = confluence.admin_auth
    env = {"CONFLUENCE_USERNAME": username, "CONFLUENCE_PASSWORD": password}
    args = ("confluence_data_center", confluence.base_url, plan_file, MAX_IN_FLIGHT)
    reported = apply_until_killed(args, env, lambda: membership_puts(confluence) >= KILL_AFTER, tmp_path)

    # what the dead process heard was done, and what the site had served and holds by then
    done = reported_done(reported, "add_membership")
    served_at_kill = membership_puts(confluence)
    landed = site_state(confluence)["memberships"] & planned
    assert KILL_AFTER <= served_at_kill < len(planned)
    # a worker has one operation at a time: whatever the site served and the process did not report
    # was the operation of one of its workers at the kill
    assert served_at_kill - MAX_IN_FLIGHT <= len(done) <= served_at_kill
    assert done <= landed

    # the next run plans from the site as the kill left it (requests in flight may still land)
    with connect(confluence) as client:
        second_plan = plan(WANT, client.snapshot(WANT.groups["name"]), rules)
        second = apply(second_plan, client, rules, retry=FAST_RETRY)
    assert second.ok, second.summary()
    assert second.counts() == {"add_membership": {"applied": len(second_plan)}}

    resent = memberships(second_plan.operations)
    summary = second_plan.summary()
    assert {kind: n for kind, n in summary.items() if n} == {"add_membership": len(resent)}
    assert resent <= planned
    assert resent & done == set()  # nothing the first run completed is sent again
    assert resent & landed == set()
    assert len(resent) <= len(planned) - served_at_kill + MAX_IN_FLIGHT
    assert site_state(confluence) == desired_state(WANT)

    # once the orphaned requests have landed: each planned membership was PUT once, and only those
    # in flight at the kill (at most MAX_IN_FLIGHT) may have gone out twice
    time.sleep(5 * LATENCY_MS / 1000)
    total = membership_puts(confluence)
    assert len(planned) <= total <= len(planned) + MAX_IN_FLIGHT
    assert all(int(status) < 400 for status in confluence.emulator.counters.as_json()["by_status"])
    assert site_state(confluence) == desired_state(WANT)
