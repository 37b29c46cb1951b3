"""What the DAG needs when its file is parsed: the rules folder, the run choices, schedule and retries.

Read from the DAG's default rules file (``default.yaml``) and two optional
Airflow Variables, so an operator can move the rules or change the schedule
without editing code:

- ``confluence_provisioning_rules_dir``: the folder of rules files
  (default: ``include/mapping_rules`` beside ``dags/``);
- ``confluence_provisioning_schedule``: a cron expression overriding
  ``run.schedule``, or ``none`` for manual runs only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from airflow.sdk import Variable

from confluence_provisioning.pipeline.context import DEFAULT_RULES_FILE, rules_files
from confluence_provisioning.settings import Settings, load_settings

RULES_DIR_VARIABLE = "confluence_provisioning_rules_dir"
SCHEDULE_VARIABLE = "confluence_provisioning_schedule"
MANUAL_ONLY = ("", "none", "manual")


@dataclass(frozen=True)
class DagConfig:
    rules_dir: Path
    rules_files: list[str]  # the choices of the rules_file param, the default first
    schedule: str | None
    retries: int  # of the tasks that talk to LDAP, Confluence or storage
    retry_delay: timedelta
    approval_timeout: timedelta  # how long the approve task waits for an answer


def dag_config(default_rules_dir: Path) -> DagConfig:
    """The parse-time configuration; a broken default rules file is an import error naming its mistakes."""
    rules_dir = Path(Variable.get(RULES_DIR_VARIABLE, default=str(default_rules_dir)))
    default_rules = rules_dir / DEFAULT_RULES_FILE
    settings = load_settings(default_rules) if default_rules.is_file() else Settings()
    schedule = Variable.get(SCHEDULE_VARIABLE, default=settings.run.schedule)
    if schedule is not None and schedule.strip().lower() in MANUAL_ONLY:
        schedule = None
    return DagConfig(
        rules_dir=rules_dir,
        # with no rules files yet the DAG still loads; a run then says the file is missing
        rules_files=rules_files(rules_dir) or [DEFAULT_RULES_FILE],
        schedule=schedule,
        retries=settings.run.task_retries,
        retry_delay=timedelta(seconds=settings.run.task_retry_delay_seconds),
        approval_timeout=timedelta(hours=settings.run.approval_timeout_hours),
    )
