"""The approval step in whole DAG runs (``dag.test()``): approve, reject, no answer; what reached Confluence.

``dag.test()`` keeps a run alive while its ``approve`` task waits in ``awaiting_input``;
a thread answers the way Airflow's API server does (the HITL detail's response, then
the task resumed through ``handle_event_submit``), or lets the deadline pass and runs
the scheduler's own timeout sweep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from confluence_provisioning.audit import LeaseHeld, RunIdentity
from confluence_provisioning.pipeline.approval import approval_reasons
from confluence_provisioning.settings import ApprovalMode
from tests.dag.conftest import APPROVAL_LEASE_MINUTES, DAG_ID, Site
from tests.dag.test_dag_runs import confluence_state, report_files, task_states

RULES = "approval.yaml"  # run.approval: on_risk
CHOSEN = ["afischer", "pmartin"]  # a small plan: these users, their groups and memberships
STAGES = ("apply.create_groups", "apply.create_and_update_users", "apply.add_memberships")


def _approve_task() -> Any:
    from airflow.models.taskinstance import TaskInstance

    return sa.select(TaskInstance).where(TaskInstance.dag_id == DAG_ID, TaskInstance.task_id == "approve")


def _waiting_approval(deadline: float) -> Any:
    """The approve task instance once it waits for an answer."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    waiting = _approve_task().where(TaskInstance.state == TaskInstanceState.AWAITING_INPUT)
    while time.monotonic() < deadline:
        with create_session() as session:
            found = session.scalars(waiting).first()
            if found is not None:
                return found.run_id
        time.sleep(0.5)
    raise TimeoutError("the approve task never waited for an answer")


def respond(option: str, user: str = "reviewer") -> Callable[[str], None]:
    """An answer as Airflow's API server records it (PATCH .../hitlDetails)."""

    def answer(run_id: str) -> None:
        from airflow._shared.timezones import timezone
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.trigger import handle_event_submit
        from airflow.triggers.base import TriggerEvent
        from airflow.utils.session import create_session

        with create_session() as session:
            ti = session.scalars(_approve_task().where(TaskInstance.run_id == run_id)).one()
            detail = session.scalars(sa.select(HITLDetail).where(HITLDetail.ti_id == ti.id)).one()
            detail.responded_by = {"id": user, "name": user}
            detail.responded_at = timezone.utcnow()
            detail.chosen_options = [option]
            detail.params_input = {}
            session.add(detail)
            event = TriggerEvent(detail.as_resume_event_payload())
            handle_event_submit(event, task_instance=ti, session=session)

    return answer


def let_it_time_out(run_id: str) -> None:
    """The deadline passes (moved to the past) and the scheduler's sweep resolves the task."""
    from airflow._shared.timezones import timezone
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.scalars(_approve_task().where(TaskInstance.run_id == run_id)).one()
        ti.trigger_timeout = timezone.utcnow() - timedelta(seconds=1)
    SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts()


@contextmanager
def answering(action: Callable[[str], None], seen: dict[str, Any]) -> Iterator[None]:
    """Answers the run's approval request from another thread; ``seen`` gets its subject and body."""

    def work() -> None:
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        try:
            run_id = _waiting_approval(time.monotonic() + 180)
            with create_session() as session:
                ti = session.scalars(_approve_task().where(TaskInstance.run_id == run_id)).one()
                detail = session.scalars(sa.select(HITLDetail).where(HITLDetail.ti_id == ti.id)).one()
                seen.update(subject=detail.subject, body=detail.body, options=detail.options)
            action(run_id)
        except Exception as error:  # the test fails on it, not the thread
            seen["error"] = error

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield
    thread.join(timeout=10)
    if "error" in seen:
        raise seen["error"]


def holding_the_site(site: Site, then: Callable[[str], None], seen: dict[str, Any]) -> Callable[[str], None]:
    """Waits past the lease's expiry, then tries to take the site as another run would, then ``then``."""

    def answer(run_id: str) -> None:
        time.sleep(APPROVAL_LEASE_MINUTES * 60 * 1.5)
        target = f"confluence_data_center:{site.confluence.base_url}"
        other = RunIdentity(
            "confluence_provisioning_eu", "manual__other", datetime.now(UTC), RULES, "", False
        )
        with site.audit() as store:
            try:
                store.take_lease(
                    target,
                    other,
                    expires_after=timedelta(minutes=APPROVAL_LEASE_MINUTES),
                    is_running=lambda dag_id, run_id: None,  # another deployment's Airflow cannot say
                )
            except LeaseHeld as held:
                seen["held"] = str(held)
        then(run_id)

    return answer


def test_a_first_run_waits_for_approval_and_applies_the_plan_once_approved(site: Site) -> None:
    seen: dict[str, Any] = {}
    with answering(holding_the_site(site, respond("Approve"), seen), seen):
        approved = site.run(rules_file=RULES, only_users=CHOSEN)

    assert approved.state == "success"
    # waiting longer than its lease's expiry, the run kept the site: another run could not take it
    assert f"DAG run {approved.run_id} of {DAG_ID}" in seen["held"]
    assert "(it waits for approval until " in seen["held"]
    assert seen["options"] == ["Approve", "Reject"]
    assert seen["body"].startswith(
        "**Why this run waits for approval**\n\n"
        "- first contact: no real run against this Confluence has succeeded yet\n"
    )
    record = site.record(approved)
    # every planned operation reached Confluence, once
    assert site.writes() == record.total() > 0
    assert f"| create user | {len(CHOSEN)} |" in seen["body"]
    assert "- create user afischer (" in seen["body"]
    states = task_states(approved)
    assert states["approve"][0] == "success"
    assert {states[stage][0] for stage in STAGES} == {"success"}
    html, _, _ = report_files(site, approved)
    assert "Approval: the plan was approved by reviewer at " in html

    # after a first approved run, a run within the limits needs none
    site.confluence.emulator.counters.clear()
    again = site.run(rules_file=RULES)

    assert again.state == "success"
    assert task_states(again)["approve"][0] == "skipped"
    assert site.writes() == site.record(again).total() > 0


def test_a_rejected_plan_writes_nothing_even_when_it_breaks_a_guard(site: Site) -> None:
    leavers = [f"leaver{number:02d}" for number in range(20)]
    for name in leavers:
        site.confluence.directory.create_user(name, name.title(), f"{name}@example.com", "password")
    before = confluence_state(site.confluence)
    site.confluence.emulator.counters.clear()
    seen: dict[str, Any] = {}

    with answering(respond("Reject"), seen):
        rejected = site.run(rules_file=RULES)

    # the guard did not fail the plan: it asked, and the answer was no
    assert "- the plan breaks safety guards (approving applies it once):\n" in seen["body"]
    assert "20 users would be disabled or deleted" in seen["body"]
    assert site.writes() == 0 and confluence_state(site.confluence) == before
    states = task_states(rejected)
    assert (states["plan"][0], states["approve"][0]) == ("success", "success")
    assert {states[f"apply.{stage}"][0] for stage in ("create_groups", "disable_users")} == {"skipped"}
    assert rejected.state == "failed"
    record = site.record(rejected)
    assert record.status == "failed" and record.counts == {}
    assert record.error.startswith("The plan was rejected by reviewer at ")
    assert record.error.endswith(": nothing was written.")


def test_no_answer_in_time_writes_nothing_and_the_run_says_why(site: Site) -> None:
    seen: dict[str, Any] = {}
    with answering(let_it_time_out, seen):
        timed_out = site.run(rules_file=RULES, only_users=CHOSEN)

    assert site.writes() == 0
    assert timed_out.state == "failed"
    assert task_states(timed_out)["apply.create_and_update_users"][0] == "skipped"
    record = site.record(timed_out)
    assert record.error == "Nobody answered the approval request within 24 h: nothing was written."


@pytest.mark.parametrize(
    ("mode", "dry_run", "operations", "first_contact", "violations", "asked"),
    [
        (ApprovalMode.on_risk, False, 5, True, [], ["first contact"]),
        (ApprovalMode.on_risk, False, 5, False, ["too many"], ["the plan breaks safety guards"]),
        (ApprovalMode.on_risk, False, 5, False, [], []),
        (ApprovalMode.always, False, 5, False, [], ["the rules file asks"]),
        (ApprovalMode.always, False, 0, True, ["too many"], []),  # nothing to write
        (ApprovalMode.always, True, 5, True, [], []),  # a dry run writes nothing
        (ApprovalMode.never, False, 5, True, ["too many"], []),
    ],
)
def test_when_a_plan_waits_for_approval(
    mode: ApprovalMode,
    dry_run: bool,
    operations: int,
    first_contact: bool,
    violations: list[str],
    asked: list[str],
) -> None:
    reasons = approval_reasons(
        mode, dry_run=dry_run, operations=operations, first_contact=first_contact, violations=violations
    )
    assert [reason for reason in reasons if not any(reason.startswith(a) for a in asked)] == []
    assert len(reasons) == len(asked)
