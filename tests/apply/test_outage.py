"""Confluence goes away mid-apply: the apply task stops sending, fails with one clear message, and its
next try (Airflow's task retry) converges exactly once Confluence is back.

Scaled: the issue's outage lasts 120 s and the breaker's ``no_success_seconds`` default is 60 s;
here both run at 1/20 (6 s and 3 s), with the same logic. The other numbers are the defaults: 20
failures in a row open the breaker, and the retry policy is the production one (6 attempts from
0.5 s). The task body is the DAG's (``tasks.apply_chunk``), run the way Airflow runs it.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from airflow.sdk.exceptions import AirflowException

from confluence_provisioning import storage
from confluence_provisioning.apply.applier import RESULTS
from confluence_provisioning.pipeline import tasks
from confluence_provisioning.pipeline.context import RunContext, RunParams
from confluence_provisioning.pipeline.plan_files import results_uri, write_chunks, write_plan_record
from confluence_provisioning.plan.planner import plan
from confluence_provisioning.settings import BreakerSettings
from tests.apply.relay import Relay
from tests.apply.site import OPEN_LIMITS, connect, desired_state, people, settings, site_state

SCALE = 1 / 20
OUTAGE = 120 * SCALE
NO_SUCCESS_SECONDS = BreakerSettings().no_success_seconds * SCALE
WANT = people(200, 4)  # 300 memberships to add, 8 at a time
KILL_AFTER = 60  # membership PUTs served before Confluence goes away
MEMBERSHIP_PUT = "PUT /rest/api/user/{username}/group/{groupName}"


def membership_puts(server) -> int:
    return server.emulator.counters.as_json()["by_route"].get(MEMBERSHIP_PUT, 0)


def run_context(rules_dir: Path) -> RunContext:
    now = datetime.now(UTC)
    return RunContext("sync", "manual__outage", now, now, rules_dir, RunParams())


def test_an_outage_mid_apply_fails_the_task_within_the_breaker_window_and_the_retry_converges(
    confluence_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert BreakerSettings().no_success_seconds == 60 and BreakerSettings().consecutive_failures == 20
    state = tmp_path / "confluence.json"
    # every membership PUT takes 10 ms, so the stage is still running when Confluence goes away
    first = confluence_server(
        state_file=state, faults=[{"method": "PUT", "path": "/rest/api/user/*/group/*", "latency_ms": 10}]
    )
    for name, display, email in WANT.users[["username", "display_name", "email"]].itertuples(index=False):
        first.directory.create_user(name, display, email, "pw")
    for group in WANT.groups["name"]:
        first.directory.create_group(group)
    relay = Relay(first.port)
    login, password = first.admin_auth
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONFLUENCE_DEFAULT",
        json.dumps({"conn_type": "http", "host": relay.base_url, "login": login, "password": password}),
    )
    rules = {
        "limits": OPEN_LIMITS,
        "target": {"kind": "confluence_data_center", "breaker": {"no_success_seconds": NO_SUCCESS_SECONDS}},
        "run": {"storage_base": f"file://{tmp_path}/runs"},
    }
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    run = run_context(tmp_path)
    with connect(first) as client:
        the_plan = plan(WANT, client.snapshot(WANT.groups["name"]), settings())
    assert {kind: n for kind, n in the_plan.summary().items() if n} == {"add_membership": 300}
    chunks = write_chunks(run, the_plan, run.settings.run.apply_chunk_size)
    write_plan_record(run, the_plan, chunks=chunks, violations=[])
    [chunk] = chunks["add_memberships"]

    failure: list[BaseException] = []
    failed_at: list[float] = []

    def first_try() -> None:
        try:
            tasks.apply_chunk(run, chunk)
        except BaseException as error:
            failure.append(error)
        failed_at.append(time.monotonic())

    worker = threading.Thread(target=first_try)
    worker.start()
    deadline = time.monotonic() + 60
    while membership_puts(first) < KILL_AFTER:
        assert worker.is_alive() and time.monotonic() < deadline, "the stage did not get far enough"
        time.sleep(0.002)
    went_away = time.monotonic()
    first.stop()  # every connection to the site is refused from now on
    served = membership_puts(first)
    worker.join(timeout=OUTAGE)
    assert not worker.is_alive(), "the task was still sending when the outage ended"
    sent_during_outage = relay.refused

    # the task failed, in the first half of the outage, with one clear message, after few requests
    [error] = failure
    assert type(error) is AirflowException  # not AirflowFailException: Airflow retries it
    assert str(error).startswith(
        "Confluence unavailable: 20 connection errors or 5xx answers in a row (the last: add member "
    )
    assert str(error).endswith(
        "of 300 operations of add_memberships-0001 were not attempted. "
        "Airflow retries this task later; applying again is safe."
    )
    assert (failed_at[0] - went_away) / OUTAGE < 0.5
    assert 1 <= sent_during_outage < 100
    results = storage.read_frame(results_uri(chunk), RESULTS)
    by_status = results["status"].value_counts().to_dict()
    assert set(by_status) <= {"applied", "failed", "not-attempted"}
    assert by_status["not-attempted"] > 100
    assert served - 8 <= by_status["applied"] <= served  # at most one in flight per worker unheard of
    not_attempted = results[results["status"] == "not-attempted"]
    assert set(not_attempted["attempts"]) == {0}
    assert str(error).startswith(not_attempted["error"].iloc[0].removeprefix("not attempted: ")[:60])

    # Confluence is back where it was; Airflow's retry of the task sends the chunk once more
    time.sleep(max(0.0, went_away + OUTAGE - time.monotonic()))
    second = confluence_server(state_file=state)
    relay.upstream_port = second.port
    retried = tasks.apply_chunk(run, chunk)

    assert retried == {"add_membership": {"applied": 300}}
    assert membership_puts(second) == 300
    assert set(second.emulator.counters.as_json()["by_status"]) == {"204"}
    assert site_state(second) == desired_state(WANT)
    relay.close()
