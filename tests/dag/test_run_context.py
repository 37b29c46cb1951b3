"""A DAG run as the library sees it: params, the rules file it names, its run folder and audit identity."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from confluence_provisioning.pipeline.context import RunContext, RunParams, rules_files

RUN_AFTER = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


def context(rules_dir: Path, **params: object) -> RunContext:
    dag_run = SimpleNamespace(
        dag_id="confluence_provisioning",
        run_id="scheduled__2025-03-01T02:00:00+00:00",
        run_after=RUN_AFTER,
        logical_date=RUN_AFTER,
        start_date=RUN_AFTER.replace(minute=1),
    )
    return RunContext.from_task_context({"dag_run": dag_run, "params": params}, rules_dir)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "default.yaml").write_text("run:\n  keep_run_folders_days: 3\n")
    (tmp_path / "broken.yaml").write_text("limits:\n  max_group_deletions: -1\n")
    (tmp_path / "notes.txt").write_text("not rules")
    return tmp_path


def test_the_rules_files_are_the_yaml_files_default_first(rules_dir: Path) -> None:
    (rules_dir / "another.yml").write_text("{}\n")

    assert rules_files(rules_dir) == ["default.yaml", "another.yml", "broken.yaml"]


def test_params_are_read_as_the_form_gives_them(rules_dir: Path) -> None:
    run = context(rules_dir, dry_run=True, only_users=[" Alice ", "bob", ""])

    assert run.params == RunParams(rules_file="default.yaml", dry_run=True, only_users=("alice", "bob"))
    assert (run.started_at, run.settings.run.keep_run_folders_days) == (RUN_AFTER.replace(minute=1), 3)


def test_the_identity_carries_the_hash_of_the_rules_as_read(rules_dir: Path) -> None:
    identity = context(rules_dir).identity()

    assert identity.rules_sha256 == hashlib.sha256((rules_dir / "default.yaml").read_bytes()).hexdigest()
    assert (identity.dag_run_id, identity.dry_run) == ("scheduled__2025-03-01T02:00:00+00:00", False)
    assert (identity.source, identity.target) == (
        "ldap (ldap_default)",
        "confluence_data_center (confluence_default)",
    )


def test_a_broken_rules_file_fails_the_task_with_every_mistake(rules_dir: Path) -> None:
    with pytest.raises(AirflowFailException) as failed:
        _ = context(rules_dir, rules_file="broken.yaml").settings

    message = str(failed.value)
    assert message.startswith("the rules file has mistakes:\n")
    assert f"{rules_dir / 'broken.yaml'}:2: limits.max_group_deletions" in message


def test_a_rules_file_outside_the_folder_cannot_be_named(rules_dir: Path) -> None:
    run = context(rules_dir, rules_file="../etc/passwd")

    with pytest.raises(AirflowFailException) as failed:
        _ = run.settings
    assert str(failed.value) == (
        f"rules_file '../etc/passwd' is not a rules file of {rules_dir}; "
        "choose one of ['default.yaml', 'broken.yaml']"
    )
    assert run.identity().rules_sha256 == ""  # the failure can still be recorded
    assert (run.identity().source, run.identity().target) == (None, None)
