"""A run cut off in the membership stage: the next run finishes the job and resends nothing done."""

from __future__ import annotations

import threading

from confluence_provisioning.apply.applier import apply
from confluence_provisioning.plan.planner import plan
from tests.apply.site import FAST_RETRY, connect, desired_state, people, settings, site_state, sync

WANT = people(30, 3)
STOP_AFTER = 12


def test_a_cancelled_run_is_finished_by_the_next_one(confluence):
    rules = settings()
    cancel = threading.Event()
    lock = threading.Lock()
    added: list[tuple[str, str]] = []

    def on_result(row: dict) -> None:
        if row["operation"] == "add_membership" and row["status"] == "applied":
            with lock:
                added.append((row["target"], row["group"]))
                if len(added) == STOP_AFTER:
                    cancel.set()

    with connect(confluence) as client:
        first_plan = plan(WANT, client.snapshot(WANT.groups["name"]), rules)
        first = apply(first_plan, client, rules, retry=FAST_RETRY, cancel=cancel, on_result=on_result)

    memberships = first.results[first.results["operation"] == "add_membership"]
    done = memberships[memberships["status"] == "applied"]
    assert STOP_AFTER <= len(done) < len(memberships)
    assert set(memberships["status"]) == {"applied", "skipped"}
    assert set(memberships.loc[memberships["status"] == "skipped", "error"]) == {
        "not sent: the run was cancelled before this operation was sent"
    }
    assert first.counts()["create_user"] == {"applied": 30}

    second = sync(confluence, WANT, rules)
    assert second.result.ok, second.result.summary()
    resent = {(op.target, op.group) for op in second.plan.operations} & set(
        zip(done["target"], done["group"], strict=True)
    )
    assert resent == set()
    assert second.plan.summary()["add_membership"] == len(memberships) - len(done)
    assert second.writes == len(second.plan)  # nothing else went out
    assert site_state(confluence) == desired_state(WANT)
