"""What every task of a run needs to know: its params, its rules, its run folder, its audit identity.

Everything here is derived from the DAG run (id, run_after, params), so any
task, and the failure callback, finds the same run folder and audit row
without being told: nothing is handed around but the run itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from confluence_provisioning import storage
from confluence_provisioning.audit import AuditStore, RunIdentity, audit_url
from confluence_provisioning.settings import RulesError, Settings, load_settings

DEFAULT_RULES_FILE = "default.yaml"
RULES_SUFFIXES = (".yaml", ".yml")


def rules_files(rules_dir: Path) -> list[str]:
    """The rules files a run may name (the ``rules_file`` param's choices), default first."""
    names = sorted(
        path.name for path in rules_dir.glob("*") if path.suffix in RULES_SUFFIXES and path.is_file()
    )
    return sorted(names, key=lambda name: name != DEFAULT_RULES_FILE)


@dataclass(frozen=True)
class RunParams:
    """The params of a DAG run, as the trigger form takes them."""

    rules_file: str = DEFAULT_RULES_FILE
    dry_run: bool = False
    allow_over_limits: bool = False
    only_users: tuple[str, ...] = ()
    full_read: bool = False  # read the whole source, even where it could read only the changes

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RunParams:
        return cls(
            rules_file=params.get("rules_file") or DEFAULT_RULES_FILE,
            dry_run=bool(params.get("dry_run", False)),
            allow_over_limits=bool(params.get("allow_over_limits", False)),
            only_users=tuple(name.strip().lower() for name in params.get("only_users") or () if name.strip()),
            full_read=bool(params.get("full_read", False)),
        )


@dataclass(frozen=True)
class RunContext:
    """One DAG run as the library sees it."""

    dag_id: str
    dag_run_id: str
    run_after: datetime
    started_at: datetime
    rules_dir: Path
    params: RunParams

    @classmethod
    def from_task_context(cls, context: Mapping[str, Any], rules_dir: Path) -> RunContext:
        dag_run = context["dag_run"]
        run_after = dag_run.run_after or dag_run.logical_date
        return cls(
            dag_id=dag_run.dag_id,
            dag_run_id=dag_run.run_id,
            run_after=run_after,
            started_at=dag_run.start_date or run_after,
            rules_dir=rules_dir,
            params=RunParams.from_params(context["params"]),
        )

    @cached_property
    def rules_path(self) -> Path:
        """The rules file the run names; only files of the rules folder can be named."""
        name = self.params.rules_file
        if name not in rules_files(self.rules_dir):
            raise AirflowFailException(
                f"rules_file {name!r} is not a rules file of {self.rules_dir}; "
                f"choose one of {rules_files(self.rules_dir)}"
            )
        return self.rules_dir / name

    @cached_property
    def settings(self) -> Settings:
        """The run's settings; a broken rules file fails the task at once (retrying cannot fix it)."""
        try:
            return load_settings(self.rules_path)
        except RulesError as error:
            raise AirflowFailException(f"the rules file has mistakes:\n{error}") from None

    @cached_property
    def folder(self) -> ObjectStoragePath:
        base = storage.storage_base(self.settings.run.storage_base)
        return storage.run_folder(base, self.dag_id, self.dag_run_id, self.run_after)

    def uri(self, name: str) -> str:
        """The URI of a file of the run folder (it may not exist yet)."""
        return str(self.folder / name)

    def identity(self) -> RunIdentity:
        return RunIdentity(
            dag_id=self.dag_id,
            dag_run_id=self.dag_run_id,
            started_at=self.started_at,
            rules_file=self.params.rules_file,
            rules_sha256=self._rules_sha256(),
            dry_run=self.params.dry_run,
            **self._sides(),
        )

    def _sides(self) -> dict[str, str]:
        """The source and the target as "kind (connection id)"; none when the rules file is broken."""
        try:
            settings = self.settings
        except AirflowFailException:
            return {}
        return {
            side: f"{endpoint.kind} ({endpoint.connection_id})"
            for side, endpoint in (("source", settings.source), ("target", settings.target))
        }

    def _rules_sha256(self) -> str:
        """The hash of the rules as they were read; empty when the file is not there to read."""
        if self.params.rules_file not in rules_files(self.rules_dir):
            return ""
        return hashlib.sha256((self.rules_dir / self.params.rules_file).read_bytes()).hexdigest()

    def audit_store(self) -> AuditStore:
        return AuditStore(audit_url(self.settings.run.audit_connection_id))
