"""The approval step: when a plan waits for a person's yes, what they are shown, what they answered.

- ``approval_reasons`` (pure) decides, in the plan task, from ``run.approval``: on
  ``on_risk`` the first real run against the site (no real run has succeeded in the
  audit history) and a plan that breaks a guard; on ``always`` every real run with
  changes; on ``never`` none. Dry runs and empty plans never wait.
- ``PlanApproval`` is the DAG's ``approve`` task: Airflow's ``ApprovalOperator``
  (standard provider), listed under Browse > Required actions with the plan's
  summary. Approve applies this plan once; Reject, or no answer within
  ``run.approval_timeout_hours``, writes nothing (the stages are skipped). While it waits
  the run keeps its lease on the site (``lease.hold_for_approval``).
- The answer goes to the run folder (``plan/approval.json``): apply refuses a plan
  that needed approval and has none, and the report says who decided what.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException

from confluence_provisioning import storage
from confluence_provisioning.pipeline import lease
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.pipeline.plan_files import PLAN_FOLDER, read_plan_record
from confluence_provisioning.printable import printable, printable_lines, printable_logger
from confluence_provisioning.settings import ApprovalMode

log = printable_logger("confluence_provisioning.pipeline")

APPROVAL_FILE = f"{PLAN_FOLDER}/approval.json"
APPROVED, REJECTED, TIMED_OUT = "approved", "rejected", "timed out"
FIRST_CHANGES = 20  # operations listed in the approval request; the rest are in the changes file


def approval_reasons(
    mode: ApprovalMode, *, dry_run: bool, operations: int, first_contact: bool, violations: Sequence[str]
) -> list[str]:
    """Why this plan needs a person's approval before it is applied; empty when it does not."""
    if dry_run or operations == 0 or mode == ApprovalMode.never:
        return []
    reasons = []
    if mode == ApprovalMode.always:
        reasons.append("the rules file asks for approval of every run (run.approval: always)")
    if first_contact:
        reasons.append("first contact: no real run against this Confluence has succeeded yet")
    if violations:
        reasons.append(
            "the plan breaks safety guards (approving applies it once):\n"
            + "\n".join(f"  - {text}" for text in violations)
        )
    return reasons


def request_text(record: Mapping[str, Any], report_uri: str) -> str:
    """The approval request's body (Markdown): why, the counts, the first changes, where the rest is."""
    first_changes, changes_uri = record["approval"]["first_changes"], record["approval"]["changes"]
    summary = {kind: count for kind, count in record["summary"].items() if count}
    total = sum(summary.values())
    lines = ["**Why this run waits for approval**", ""]
    # directory values escaped, as everywhere they are shown
    lines += [f"- {printable_lines(reason)}" for reason in record["approval"]["reasons"]]
    lines += ["", f"**The plan: {total} operations**", "", "| operation | count |", "| --- | ---: |"]
    lines += [f"| {kind.replace('_', ' ')} | {count} |" for kind, count in summary.items()]
    lines += ["", f"**The first {len(first_changes)} of {total} changes**", ""]
    lines += [f"- {printable(change)}" for change in first_changes]
    lines += [
        "",
        f"Every change with its reason: `{changes_uri}`",
        f"The run's report will be at: `{report_uri}`",
        "",
        "**Approve** applies this plan once. **Reject**, or no answer in time, writes nothing.",
    ]
    return "\n".join(lines)


def write_decision(run: RunContext, decision: str, by: str | None, at: str | None) -> None:
    storage.write_text(run.folder, APPROVAL_FILE, json.dumps({"decision": decision, "by": by, "at": at}))


def read_decision(run: RunContext) -> dict[str, Any] | None:
    """The answer to the run's approval request, or None when nobody answered (or none was asked)."""
    uri = run.uri(APPROVAL_FILE)
    return json.loads(storage.read_text(uri)) if storage.exists(uri) else None


def require_approval(run: RunContext, record: Mapping[str, Any]) -> None:
    """Apply's check: a plan that needed approval is applied only once it was approved."""
    if not record.get("approval", {}).get("reasons"):
        return
    decision = read_decision(run)
    if decision is None or decision["decision"] != APPROVED:
        raise AirflowFailException(
            "this plan needs approval before it is applied, and it was "
            + ("not answered" if decision is None else decision["decision"])
            + ": nothing was written"
        )


def decision_text(decision: Mapping[str, Any] | None, timeout_hours: float) -> str:
    """One line for logs and the report: who decided what, or that nobody did."""
    if decision is None:
        return "the plan needed approval and got no answer: nothing was written"
    if decision["decision"] == TIMED_OUT:
        return f"nobody answered the approval request within {timeout_hours:g} h: nothing was written"
    who = f" by {decision['by']}" if decision.get("by") else ""
    when = f" at {decision['at']}" if decision.get("at") else ""
    if decision["decision"] == APPROVED:
        return f"the plan was approved{who}{when} and applied once"
    return f"the plan was rejected{who}{when}: nothing was written"


class PlanApproval(ApprovalOperator):
    """The ``approve`` task: shows the plan's summary in Required actions and records the answer."""

    def __init__(self, *, rules_dir: Path, timeout: timedelta, **kwargs: Any) -> None:
        super().__init__(
            subject="Approve the Confluence provisioning plan",
            defaults=ApprovalOperator.REJECT,  # what a timeout chooses
            response_timeout=timeout,
            **kwargs,
        )
        self.rules_dir = rules_dir

    def _run(self, context: Any) -> RunContext:
        return RunContext.from_task_context(context, self.rules_dir)

    def execute(self, context: Any) -> Any:
        run = self._run(context)
        record = read_plan_record(run)
        if record is None or not record.get("approval", {}).get("reasons"):
            raise AirflowFailException("the plan task left no approval request in the run folder")
        self.subject = f"Approve {sum(record['summary'].values())} changes to Confluence ({run.dag_run_id})"
        self.body = request_text(record, run.uri("report/report.html"))
        lease.hold_for_approval(run, datetime.now(UTC) + self.response_timeout)
        log.info("Waiting for approval in the Airflow UI (Browse > Required actions): %s", self.subject)
        for reason in record["approval"]["reasons"]:
            log.info("why: %s", reason)
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        if "error" not in event:  # an error event fails the task in the operator
            self._record(self._run(context), event)
        # on Reject the operator skips the apply stages, by raising: record the answer first
        return super().execute_complete(context, event)

    def _record(self, run: RunContext, event: Mapping[str, Any]) -> None:
        approved = list(event["chosen_options"]) == [self.APPROVE]
        decision = APPROVED if approved else TIMED_OUT if event.get("timedout") else REJECTED
        user = event.get("responded_by_user") or {}
        responded_at = event.get("responded_at")
        write_decision(
            run,
            decision,
            user.get("name") if isinstance(user, Mapping) else str(user),
            responded_at.isoformat() if responded_at is not None else None,
        )
        text = decision_text(read_decision(run), self.response_timeout.total_seconds() / 3600)
        log.info("%s%s", text[0].upper(), text[1:])
