"""
### Confluence provisioning

Keeps an Atlassian site's users and groups (Confluence Data Center) in step with the identity
provider (LDAP).

Every night (and whenever you press **Trigger**) this DAG

1. reads users and groups from the source (`extract_source`) and from the target site
   (`extract_target`), in parallel, as the rules file's `source:` and `target:` say;
2. turns the directory into the users, groups and memberships Confluence should have, using a
   rules file from `include/mapping_rules/` (`map_rules`);
3. plans the difference and checks the safety guards (`plan`);
4. waits for a person's approval (`approve`, under **Browse > Required actions**) when the
   rules' `run.approval` asks for it: by default (`on_risk`) on the first real run against
   the site and when the plan breaks a guard. Approve applies the plan once; Reject, or no
   answer in time, writes nothing. With `run.approval: never` a broken guard **fails the
   plan, before anything is written**, saying what it would have done and how to allow it;
5. applies the plan in stages: groups, then users, memberships added, memberships removed,
   users disabled and deletions last (`apply.*`, each applying its chunks in order, limited by the
   `confluence_api` pool); only the stages with operations run;
6. records the run in the audit history and writes an HTML/CSV/JSON report into the run
   folder (`report`; its log says where), and on success updates the `confluence_directory`
   asset so other DAGs can run after a sync.

#### Triggering by hand

Use **Trigger DAG w/ config**:

- **Dry run**: plan and report, send nothing to Confluence.
- **Rules file**: which rules in `include/mapping_rules/` to use.
- **Allow over limits**: pass the count guards once, e.g. after a planned reorganisation.
- **Only these users**: sync just these Confluence usernames (one per line) and their
  memberships: try one account before a full run.

History: the **Provisioning** page of the Airflow UI (the report task's **Sync report** button opens
this run there), or `confluence-provisioning history` on a worker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, Param, TriggerRule, dag, get_current_context, task, task_group

from confluence_provisioning.pipeline import recording, tasks
from confluence_provisioning.pipeline.approval import PlanApproval
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.pipeline.dag_config import dag_config
from confluence_provisioning.pipeline.plan_files import STAGE_TASKS
from confluence_provisioning.ui.links import SyncReportLink

CONFIG = dag_config(Path(__file__).resolve().parents[1] / "include" / "mapping_rules")
POOL = "confluence_api"
APPROVE = "approve"
APPLY = "apply"
CONFLUENCE_DIRECTORY = Asset(
    name="confluence_directory", uri="confluence://directory/users-and-groups", group="confluence"
)
# the tasks that talk to LDAP, Confluence or storage; planning is pure and is never retried
IO_RETRIES: dict[str, Any] = {
    "retries": CONFIG.retries,
    "retry_delay": CONFIG.retry_delay,
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
}
# Confluence usernames: no whitespace and none of \ , + < > ' "
USERNAME_PATTERN = "^[^\\s\\\\,+<>'\"]+$"


def _run() -> RunContext:
    return RunContext.from_task_context(get_current_context(), CONFIG.rules_dir)


def _record_failure(context: Any) -> None:
    tasks.record_failure(context, CONFIG.rules_dir)


@dag(
    dag_id="confluence_provisioning",
    schedule=CONFIG.schedule,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    tags=["confluence", "ldap", "provisioning"],
    doc_md=__doc__,
    default_args={
        "owner": "platform",
        "retries": 0,
        "on_failure_callback": _record_failure,
        # each task logs its own one-line summary last; the XComs are for the next tasks
        "show_return_value_in_logs": False,
    },
    params={
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Read both sides and plan, but send nothing to Confluence; "
            "the report lists what would have been done.",
        ),
        "rules_file": Param(
            CONFIG.rules_files[0],
            type="string",
            enum=CONFIG.rules_files,
            title="Rules file",
            description="The mapping rules to sync with (a file of include/mapping_rules/).",
        ),
        "allow_over_limits": Param(
            False,
            type="boolean",
            title="Allow over limits (this run only)",
            description="Let this one run pass the limits on disabled/deleted users, removed "
            "memberships and deleted groups. Protected users and groups stay untouched, and "
            "emptying a group still needs limits.allow_emptying_groups in the rules file.",
        ),
        "full_read": Param(
            False,
            type="boolean",
            title="Full read of the source",
            description="Read every user and group of the identity provider, not only what "
            "changed since the last run (for sources that read incrementally: Okta, Entra ID).",
        ),
        "only_users": Param(
            [],
            type="array",
            items={"type": "string", "pattern": USERNAME_PATTERN},
            uniqueItems=True,
            title="Only these users",
            description="Confluence usernames, one per line: sync just these users and their "
            "memberships (test one account before a full run). Empty: everyone.",
        ),
    },
)
def confluence_provisioning() -> None:
    @task(execution_timeout=timedelta(minutes=30), **IO_RETRIES)
    def extract_source() -> dict[str, Any]:
        return tasks.extract_source(_run())

    @task(execution_timeout=timedelta(minutes=30), **IO_RETRIES)
    def extract_target() -> dict[str, Any]:
        return tasks.extract_target(_run())

    @task(execution_timeout=timedelta(minutes=30))
    def map_rules(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
        return tasks.map_rules(_run(), source, target)

    @task.branch(execution_timeout=timedelta(minutes=30))
    def plan(desired: dict[str, Any], target: dict[str, Any]) -> list[str]:
        """Follows only the stages with operations, through ``approve`` when the plan needs it."""
        planned = tasks.plan(_run(), desired, target)
        ti = get_current_context()["ti"]
        ti.xcom_push(key="summary", value={key: planned[key] for key in ("operations", "summary")})
        for stage, chunks in planned["chunks"].items():
            ti.xcom_push(key=stage, value=chunks)
        return [*([APPROVE] if planned["approval"] else [])] + [
            f"{APPLY}.{stage}" for stage, chunks in planned["chunks"].items() if chunks
        ]

    approve = PlanApproval(task_id=APPROVE, rules_dir=CONFIG.rules_dir, timeout=CONFIG.approval_timeout)

    @task(
        pool=POOL,
        execution_timeout=timedelta(hours=3),
        # a stage the plan left out is skipped, and so is approve when the plan needs none
        trigger_rule=TriggerRule.NONE_FAILED,
        **IO_RETRIES,
    )
    def apply_stage(stage: str) -> dict[str, Any]:
        return tasks.apply_stage(_run(), stage)

    @task(trigger_rule=TriggerRule.ALL_DONE, execution_timeout=timedelta(minutes=30), **IO_RETRIES)
    def report() -> dict[str, Any]:
        return recording.report(_run())

    @task(outlets=[CONFLUENCE_DIRECTORY])
    def publish(summary: dict[str, Any]) -> None:
        extra = tasks.asset_extra(_run(), summary)
        get_current_context()["outlet_events"][CONFLUENCE_DIRECTORY].extra = extra

    target = extract_target()
    planned = plan(map_rules(extract_source(), target), target)
    planned >> approve

    @task_group(group_id=APPLY)
    def apply() -> None:
        """The plan's stages one after the other, each one task taking a slot of the pool confluence_api.

        ``plan`` follows only the stages with operations; a Reject in ``approve`` skips them all.
        """
        previous = None
        for stage in STAGE_TASKS.values():
            applied = apply_stage.override(task_id=stage)(stage)
            planned >> applied
            approve >> applied
            if previous is not None:
                previous >> applied
            previous = applied

    # report is downstream of the stages only: a branch or a Reject skips direct downstream tasks
    summary = report()
    # its "Sync report" button opens the run's page in the UI's Provisioning view
    summary.operator.operator_extra_links = (SyncReportLink(),)
    apply() >> summary
    publish(summary)


dag = confluence_provisioning()

if __name__ == "__main__":
    dag.test()
