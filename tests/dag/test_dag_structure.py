"""The DAG as Airflow parses it: imports cleanly, has the expected tasks, params, schedule and retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from airflow.sdk import Asset
from airflow.sdk.definitions.param import ParamValidationError
from airflow.sdk.exceptions import AirflowFailException

from confluence_provisioning.pipeline.context import rules_files
from confluence_provisioning.pipeline.tasks import refuse_unknown_users
from tests.dag.conftest import DAG_ID, RULES_DIR_VARIABLE
from tests.fixtures.airflow import REPO

STAGES = [
    "create_groups",
    "create_and_update_users",
    "add_memberships",
    "remove_memberships",
    "disable_users",
    "delete_users",
    "delete_groups",
]


def parse(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Any:
    """The DAG parsed from the project's dags folder and rules, with these Airflow Variables set."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv(RULES_DIR_VARIABLE, str(REPO / "include" / "mapping_rules"))
    for name, value in variables.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_{name.upper()}", value)
    bag = DagBag(dag_folder=REPO / "dags")
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


@pytest.fixture(scope="module")
def dag(airflow_db: Path) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield parse(monkeypatch)


def test_the_dag_has_the_flow_of_the_design(dag: Any) -> None:
    assert sorted(dag.task_ids) == sorted(
        [
            "extract_source",
            "extract_target",
            "map_rules",
            "plan",
            "approve",
            *(f"apply.{stage}" for stage in STAGES),
            "report",
            "publish",
        ]
    )
    upstream = {task_id: dag.get_task(task_id).upstream_task_ids for task_id in dag.task_ids}
    assert upstream["extract_source"] == upstream["extract_target"] == set()
    assert upstream["map_rules"] == {"extract_source", "extract_target"}
    assert upstream["plan"] == {"map_rules", "extract_target"}
    # plan is a branch: its direct downstream tasks are exactly what it may follow or skip
    assert dag.get_task("plan").downstream_task_ids == {"approve", *(f"apply.{stage}" for stage in STAGES)}
    assert upstream["approve"] == {"plan"}
    assert dag.get_task("approve").options == ["Approve", "Reject"]
    assert dag.get_task("approve").defaults == ["Reject"]
    # a Reject skips the direct downstream tasks of approve: every stage, never the report
    assert dag.get_task("approve").downstream_task_ids == {f"apply.{stage}" for stage in STAGES}
    assert upstream["apply.create_groups"] == {"plan", "approve"}
    for before, stage in pairwise(STAGES):
        assert upstream[f"apply.{stage}"] == {"plan", "approve", f"apply.{before}"}
    assert {dag.get_task(f"apply.{stage}").trigger_rule for stage in STAGES} == {"none_failed"}
    assert upstream["report"] == {"apply.delete_groups"}
    assert dag.get_task("report").trigger_rule == "all_done"
    assert upstream["publish"] == {"report"}
    assert dag.get_task("publish").outlets == [
        Asset(name="confluence_directory", uri="confluence://directory/users-and-groups", group="confluence")
    ]


def test_the_dag_runs_nightly_one_run_at_a_time(dag: Any) -> None:
    assert (dag.schedule, dag.catchup, dag.max_active_runs) == ("0 2 * * *", False, 1)
    assert set(dag.tags) == {"confluence", "ldap", "provisioning"}
    assert "Trigger DAG w/ config" in dag.doc_md


def test_io_tasks_retry_with_backoff_and_plan_fails_at_once(dag: Any) -> None:
    io_tasks = ["extract_source", "extract_target", "report", *(f"apply.{stage}" for stage in STAGES)]
    for task_id in io_tasks:
        task = dag.get_task(task_id)
        assert (task.retries, task.retry_delay, task.retry_exponential_backoff) == (
            2,
            timedelta(minutes=1),
            2.0,
        )
        assert task.execution_timeout is not None
    assert (dag.get_task("plan").retries, dag.get_task("map_rules").retries) == (0, 0)
    assert {dag.get_task(f"apply.{stage}").pool for stage in STAGES} == {"confluence_api"}
    assert all(dag.get_task(task_id).on_failure_callback for task_id in dag.task_ids)


def test_the_trigger_form_has_titled_params(dag: Any) -> None:
    choices = rules_files(REPO / "include" / "mapping_rules")
    schemas = {name: dag.params.get_param(name).schema for name in dag.params}

    assert list(schemas) == ["dry_run", "rules_file", "allow_over_limits", "full_read", "only_users"]
    assert all(schema["title"] and dag.params.get_param(name).description for name, schema in schemas.items())
    assert schemas["rules_file"]["enum"] == choices and choices[0] == "default.yaml"
    assert dag.params.validate() == {
        "dry_run": False,
        "rules_file": "default.yaml",
        "allow_over_limits": False,
        "full_read": False,
        "only_users": [],
    }


@pytest.mark.parametrize(
    ("conf", "reason"),
    [
        (
            {"rules_file": "../secrets.yaml"},
            r"Invalid input for param rules_file: '../secrets.yaml' is not one of",
        ),
        ({"dry_run": "yes"}, r"Invalid input for param dry_run: 'yes' is not of type 'boolean'"),
        ({"only_users": ["mary jane"]}, r"Invalid input for param only_users: 'mary jane' does not match"),
        (
            {"only_users": ["bob", "bob"]},
            r"Invalid input for param only_users: \['bob', 'bob'\] has non-unique",
        ),
    ],
)
def test_bad_params_are_refused_with_their_reason(dag: Any, conf: dict[str, Any], reason: str) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    scheduled = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    # what the scheduler runs when a run is triggered with this conf
    with pytest.raises(ParamValidationError, match=reason):
        scheduled.params.deep_merge(conf).validate()


def test_only_users_must_name_users_the_sync_knows() -> None:
    desired = pd.DataFrame({"username": ["alice", "bob"]})
    current = pd.DataFrame({"id": ["admin", "carol"]})
    refuse_unknown_users(("alice", "carol"), desired, current)

    with pytest.raises(AirflowFailException) as refused:
        refuse_unknown_users(("alice", "zed", "yves"), desired, current)
    assert str(refused.value) == (
        "only_users names 2 users that the rules do not produce and Confluence does not have: yves, zed; "
        "check the spelling (Confluence usernames, lower case)"
    )


def test_a_variable_overrides_the_schedule(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse(monkeypatch, confluence_provisioning_schedule="30 5 * * 1-5").schedule == "30 5 * * 1-5"
    assert parse(monkeypatch, confluence_provisioning_schedule="none").schedule is None


def test_a_broken_default_rules_file_is_an_import_error_naming_its_mistakes(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "default.yaml").write_text("run:\n  task_retries: -1\n")
    monkeypatch.setenv(RULES_DIR_VARIABLE, str(tmp_path))

    (error,) = DagBag(dag_folder=REPO / "dags").import_errors.values()
    assert f"{tmp_path / 'default.yaml'}:2: run.task_retries" in error
