"""The audit history: every run, its operations and rejects, and what the sync has pushed and manages.

SQLAlchemy Core, so the same tables live in the embedded SQLite file (the
default) or in PostgreSQL. The schema creates and upgrades itself: tables are
created when missing and columns added in later versions are added in place
(always nullable), so an old store keeps working after an upgrade.

A run is written in one transaction (run row, operations, rejects, ledger,
managed groups): the history never holds half a run.

The store also keeps, per target site, which IdP user each account is (``account_links``): an
account matched by username whose ``externalId`` cannot be set is found by it after an email
change (``plan.identity``).

The store also holds the sync leases: one row per target site (its kind and base
URL or directory), naming the DAG run that may write to it, so two runs never
apply to the same site at once (``take_lease``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from confluence_provisioning import frames
from confluence_provisioning.storage import airflow_home
from confluence_provisioning.targets.atlassian_cloud.errors import REFUSED_DOMAIN

SCHEMA_VERSION = 1
SQLITE_FILE = "confluence_provisioning/audit.db"
SUCCESS = "success"
FAILED = "failed"
# the operations whose target is a group; every other operation's target is a username
GROUP_OPERATIONS = ("create_group", "delete_group")
# SQLite allows 32766 bound parameters, PostgreSQL 65535: stay well below both
_CHUNK = 500

metadata = sa.MetaData()

schema_version = sa.Table(
    "provisioning_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

runs = sa.Table(
    "provisioning_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("dag_run_id", sa.String(250), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("rules_file", sa.Text, nullable=False),
    sa.Column("rules_sha256", sa.String(64), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    # {operation: {status: count}}
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("report_uri", sa.Text),
    # "kind (connection id)" of each side; NULL when the rules file could not be read
    sa.Column("source", sa.String(250)),
    sa.Column("target", sa.String(250)),
    sa.UniqueConstraint("dag_id", "dag_run_id", name="uq_provisioning_runs_dag_run"),
)

operations = sa.Table(
    "provisioning_operations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey(runs.c.id, ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("group", sa.Text),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text),
    # the plan's reason; NULL in runs recorded before reasons were kept
    sa.Column("reason", sa.Text),
    # a person's or a group's timeline looks operations up by either name
    sa.Index("ix_provisioning_operations_target", "target"),
    sa.Index("ix_provisioning_operations_group", "group"),
)

rejects = sa.Table(
    "provisioning_rejects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey(runs.c.id, ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("dn", sa.Text),
    sa.Column("entry_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
)

# The attributes last pushed to each user: the planner compares them with the
# directory to see email/name drift even where Confluence hides emails.
ledger = sa.Table(
    "provisioning_ledger",
    metadata,
    sa.Column("username", sa.String(255), primary_key=True),
    sa.Column("email", sa.Text),
    sa.Column("display_name", sa.Text),
    sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer),
)

# The groups this sync created or took over: only these may later be pruned or deleted.
managed_groups = sa.Table(
    "provisioning_managed_groups",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer),
)

# Which IdP user an account is, where the target account cannot carry it (an Atlassian Cloud account
# made before the sync, whose externalId cannot be set): the planner's links (Plan.links).
account_links = sa.Table(
    "provisioning_account_links",
    metadata,
    sa.Column("site", sa.String(500), primary_key=True),  # as the lease's target: kind:where
    sa.Column("account_id", sa.String(255), primary_key=True),  # the target's id (a SCIM id)
    sa.Column("idp_id", sa.Text, nullable=False),  # the IdP's immutable id
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
)

# What an incremental source read last saw, one row per source (sources/incremental.py): its
# cursor (delta links, timestamps) and the URIs of the snapshot tables the changes apply to.
source_states = sa.Table(
    "provisioning_source_states",
    metadata,
    sa.Column("source_key", sa.String(250), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("cursor", sa.JSON, nullable=False),
    sa.Column("tables", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Who may write to a target site now: taken by a run's plan, renewed while it applies, released
# by its report (see AuditStore.take_lease).
leases = sa.Table(
    "provisioning_leases",
    metadata,
    sa.Column("target", sa.String(500), primary_key=True),  # e.g. confluence_data_center:https://wiki...
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("dag_run_id", sa.String(250), nullable=False),
    sa.Column("run_started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    # set while the run waits for approval: the lease does not lapse before this deadline
    sa.Column("held_until", sa.DateTime(timezone=True)),
)

# the apply result rows as the history keeps them
OPERATIONS: dict[str, str] = {
    "operation": frames.STRING,
    "target": frames.STRING,
    "group": frames.STRING,
    "status": frames.STRING,
    "http_status": "Int64",
    "attempts": "Int64",
    "duration_ms": "float64",
    "error": frames.STRING,
}
# the operations with the plan's reason for each (missing in runs recorded before reasons were kept)
REASONED: dict[str, str] = {**OPERATIONS, "reason": frames.STRING}
# an operation in a person's or a group's timeline, with its run
HISTORY: dict[str, str] = {
    "run_id": "Int64",
    "dag_id": frames.STRING,
    "dag_run_id": frames.STRING,
    "started_at": "datetime64[us, UTC]",
    "dry_run": frames.BOOL,
    **REASONED,
}
LEDGER: dict[str, str] = {
    "username": frames.STRING,
    "email": frames.STRING,
    "display_name": frames.STRING,
    "pushed_at": "datetime64[us, UTC]",
}


class AuditError(Exception):
    """The audit store cannot be reached or configured."""


@dataclass(frozen=True)
class Lease:
    """Which DAG run holds a target, since when its run started, and when it last said it is alive.

    ``held_until``: the deadline of the approval the run waits for (None when it waits for none);
    until then the run counts as alive without renewing.
    """

    target: str
    dag_id: str
    dag_run_id: str
    run_started_at: datetime
    heartbeat_at: datetime
    held_until: datetime | None = None

    def held_by(self, identity: RunIdentity) -> bool:
        return (self.dag_id, self.dag_run_id) == (identity.dag_id, identity.dag_run_id)

    def lapses_at(self, expires_after: timedelta) -> datetime:
        """When it lapses unless renewed: ``expires_after`` after its renewal or its approval deadline."""
        return max(self.heartbeat_at, self.held_until or self.heartbeat_at) + expires_after


class LeaseHeld(Exception):
    """Another DAG run holds the target's lease: this run must not write to it."""

    def __init__(self, lease: Lease, expires_after: timedelta) -> None:
        self.lease = lease
        minutes = expires_after.total_seconds() / 60
        waits = lease.held_until is not None and lease.held_until > lease.heartbeat_at
        since = (
            f"it waits for approval until {lease.held_until:%Y-%m-%d %H:%M:%S} UTC"
            if waits
            else f"it last renewed its lease at {lease.heartbeat_at:%H:%M:%S} UTC"
        )
        super().__init__(
            f"another sync of {lease.target} is in progress: DAG run {lease.dag_run_id} of "
            f"{lease.dag_id}, started {lease.run_started_at:%Y-%m-%d %H:%M:%S} UTC ({since}). "
            f"Nothing was written. This run can go ahead once that one ends, or {minutes:g} minutes "
            f"after its {'approval deadline' if waits else 'last renewal'} if it stopped without ending."
        )


# Whether a DAG run is still running per Airflow's metadata: None when it cannot tell (a run of
# another deployment, the API down).
IsRunning = Callable[[str, str], bool | None]


@dataclass(frozen=True)
class RunIdentity:
    """What identifies a run and is known from its first task on."""

    dag_id: str
    dag_run_id: str
    started_at: datetime
    rules_file: str
    rules_sha256: str
    dry_run: bool
    source: str | None = None  # "ldap (ldap_default)": the source's kind and connection
    target: str | None = None


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run leaves in the history."""

    status: str
    ended_at: datetime
    operations: pd.DataFrame  # apply result rows (OPERATIONS), and the plan's ``reason`` when known
    rejects: pd.DataFrame  # frames.REJECTS
    error: str | None = None
    report_uri: str | None = None
    pushed: pd.DataFrame | None = None  # username, email, display_name now in Confluence
    groups_now_managed: frozenset[str] = frozenset()
    groups_no_longer_managed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunRecord:
    id: int
    dag_id: str
    dag_run_id: str
    started_at: datetime
    ended_at: datetime | None
    rules_file: str
    rules_sha256: str
    dry_run: bool
    status: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str | None = None
    report_uri: str | None = None
    source: str | None = None
    target: str | None = None

    def total(self, status: str | None = None) -> int:
        """Operations of the run, all or those with ``status``."""
        return sum(
            count
            for by_status in self.counts.values()
            for name, count in by_status.items()
            if status is None or name == status
        )


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRecord]
    total: int  # runs matching the filters, on every page


@dataclass(frozen=True)
class NameMatches:
    users: list[str]
    groups: list[str]


def operation_counts(results: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{operation: {status: count}} of apply result rows, sorted for stable output."""
    counts: dict[str, dict[str, int]] = {}
    for (operation, status), size in results.groupby(["operation", "status"]).size().sort_index().items():
        counts.setdefault(str(operation), {})[str(status)] = int(size)
    return counts


def audit_url(conn_id: str) -> sa.URL:
    """The store's URL: the Airflow connection ``conn_id`` if it exists, else SQLite under AIRFLOW_HOME."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return sa.URL.create("sqlite", database=str(airflow_home() / SQLITE_FILE))
    explicit = conn.extra_dejson.get("sqlalchemy_url")
    if explicit:
        return sa.make_url(explicit)
    if conn.conn_type in ("postgres", "postgresql"):
        return sa.URL.create(
            "postgresql+psycopg",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
    if conn.conn_type == "sqlite":
        return sa.URL.create("sqlite", database=conn.host)
    raise AuditError(
        f"Airflow connection {conn_id!r} has type {conn.conn_type!r}; the audit store needs a "
        "'postgres' or 'sqlite' connection, or an extra 'sqlalchemy_url'."
    )


class AuditStore:
    """The audit tables in one database; upgraded to the current schema when opened."""

    def __init__(self, url: str | sa.URL) -> None:
        url = sa.make_url(url)
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # concurrent tasks may write at once: wait for the lock instead of failing
            connect_args["timeout"] = 30
        self.engine: Engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        self.upgrade()

    @classmethod
    def from_connection(cls, conn_id: str) -> AuditStore:
        return cls(audit_url(conn_id))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def upgrade(self) -> None:
        """Create missing tables and add missing (nullable) columns, then record the schema version."""
        with self.engine.begin() as conn:
            metadata.create_all(conn)
            inspector = sa.inspect(conn)
            preparer = conn.dialect.identifier_preparer
            for table in metadata.sorted_tables:
                present = {column["name"] for column in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in present:
                        continue
                    column_type = column.type.compile(dialect=conn.dialect)
                    conn.execute(
                        sa.text(
                            f"ALTER TABLE {preparer.format_table(table)} "
                            f"ADD COLUMN {preparer.format_column(column)} {column_type}"
                        )
                    )
                indexes = {index["name"] for index in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    if index.name not in indexes:
                        index.create(conn)
            current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
            if current is None or current < SCHEMA_VERSION:
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION, applied_at=_now()))

    def schema_version(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()

    # -- writing ---------------------------------------------------------------------------------

    def record_run(self, identity: RunIdentity, outcome: RunOutcome) -> int:
        """Write a finished run (replacing what an earlier try of the same run wrote); return its id.

        An error already recorded for the run (by a failed task) is kept: it is the cause.
        """
        with self.engine.begin() as conn:
            run_id = self._upsert_run(
                conn,
                identity,
                status=outcome.status,
                ended_at=outcome.ended_at,
                counts=operation_counts(outcome.operations),
                error=outcome.error,
                report_uri=outcome.report_uri,
            )
            conn.execute(operations.delete().where(operations.c.run_id == run_id))
            conn.execute(rejects.delete().where(rejects.c.run_id == run_id))
            op_columns = list(REASONED if "reason" in outcome.operations.columns else OPERATIONS)
            op_rows = [{**row, "run_id": run_id} for row in _records(outcome.operations, op_columns)]
            if op_rows:
                conn.execute(operations.insert(), op_rows)
            reject_rows = [
                {"run_id": run_id, **{("entry_id" if k == "id" else k): v for k, v in row.items()}}
                for row in _records(outcome.rejects, list(frames.REJECTS))
            ]
            if reject_rows:
                conn.execute(rejects.insert(), reject_rows)
            if outcome.pushed is not None and len(outcome.pushed):
                self._push_ledger(conn, outcome.pushed, run_id=run_id, pushed_at=outcome.ended_at)
            self._update_managed_groups(conn, outcome, run_id=run_id)
        return run_id

    def record_failure(self, identity: RunIdentity, *, ended_at: datetime, error: str) -> int:
        """Mark the run failed; the first error recorded is kept (it is the cause, later ones follow)."""
        with self.engine.begin() as conn:
            existing = self._find_run(conn, identity)
            counts = existing.counts if existing is not None else {}
            return self._upsert_run(
                conn, identity, status=FAILED, ended_at=ended_at, counts=counts, error=error
            )

    def _upsert_run(self, conn: Connection, identity: RunIdentity, **values: Any) -> int:
        existing = self._find_run(conn, identity)
        if existing is not None:
            # the first error recorded is the cause; later ones follow from it
            values["error"] = existing.error or values.get("error")
            if values.get("report_uri") is None:
                values["report_uri"] = existing.report_uri
            conn.execute(runs.update().where(runs.c.id == existing.id).values(**values))
            return existing.id
        row = {
            "dag_id": identity.dag_id,
            "dag_run_id": identity.dag_run_id,
            "started_at": identity.started_at,
            "rules_file": identity.rules_file,
            "rules_sha256": identity.rules_sha256,
            "dry_run": identity.dry_run,
            "source": identity.source,
            "target": identity.target,
            **values,
        }
        return int(conn.execute(runs.insert().values(**row)).inserted_primary_key[0])

    def _find_run(self, conn: Connection, identity: RunIdentity) -> RunRecord | None:
        row = conn.execute(
            sa.select(runs).where(runs.c.dag_id == identity.dag_id, runs.c.dag_run_id == identity.dag_run_id)
        ).one_or_none()
        return _run_record(row._mapping) if row is not None else None

    def _push_ledger(
        self, conn: Connection, pushed: pd.DataFrame, *, run_id: int, pushed_at: datetime
    ) -> None:
        rows = [
            {**row, "pushed_at": pushed_at, "run_id": run_id}
            for row in _records(pushed, ["username", "email", "display_name"])
        ]
        for chunk in _chunks([row["username"] for row in rows]):
            conn.execute(ledger.delete().where(ledger.c.username.in_(chunk)))
        conn.execute(ledger.insert(), rows)

    def _update_managed_groups(self, conn: Connection, outcome: RunOutcome, *, run_id: int) -> None:
        for chunk in _chunks(sorted(outcome.groups_no_longer_managed)):
            conn.execute(managed_groups.delete().where(managed_groups.c.name.in_(chunk)))
        known = set(conn.execute(sa.select(managed_groups.c.name)).scalars())
        added = sorted(outcome.groups_now_managed - outcome.groups_no_longer_managed - known)
        if added:
            conn.execute(
                managed_groups.insert(),
                [{"name": name, "added_at": outcome.ended_at, "run_id": run_id} for name in added],
            )

    # -- leases ----------------------------------------------------------------------------------

    def take_lease(
        self, target: str, identity: RunIdentity, *, expires_after: timedelta, is_running: IsRunning
    ) -> Lease | None:
        """Hold ``target`` for this run; LeaseHeld when another run holds it.

        A lease is taken over at once when Airflow says its holder is no longer running,
        and when its holder has not renewed it for ``expires_after`` (counted from its
        approval deadline while it waits for one: ``Lease.lapses_at``). The lease this
        run already holds is renewed. Returns the lease taken over, if any.
        """
        for _ in range(3):  # another run may take or free it between our read and our write
            now = _now()
            current = self._lease(target)
            if current is None:
                if self._insert_lease(target, identity, now):
                    return None
                continue
            if current.held_by(identity):
                self.heartbeat_lease(target, identity)
                return None
            stale = now >= current.lapses_at(expires_after)
            if not stale and is_running(current.dag_id, current.dag_run_id) is not False:
                raise LeaseHeld(current, expires_after)
            if self._replace_lease(current, identity, now):
                return current
        raise AuditError(f"the lease of {target} kept changing hands; try again")

    def heartbeat_lease(
        self, target: str, identity: RunIdentity, held_until: datetime | None = None
    ) -> Lease | None:
        """Renew this run's lease; the lease's holder when another run holds it (None: renewed or free).

        ``held_until``: the deadline of the approval the run is about to wait for (see Lease);
        a renewal without one ends the wait.
        """
        with self.engine.begin() as conn:
            renewed = conn.execute(
                leases.update()
                .where(*_holder(target, identity.dag_id, identity.dag_run_id))
                .values(heartbeat_at=_now(), held_until=held_until)
            ).rowcount
        return None if renewed else self._lease(target)

    def release_lease(self, target: str, identity: RunIdentity) -> None:
        """Free the target if this run holds it."""
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(*_holder(target, identity.dag_id, identity.dag_run_id)))

    def _lease(self, target: str) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.target == target)).one_or_none()
        if row is None:
            return None
        values = dict(row._mapping)
        return Lease(
            **{
                **values,
                "run_started_at": _utc(values["run_started_at"]),
                "heartbeat_at": _utc(values["heartbeat_at"]),
                "held_until": _utc(values["held_until"]) if values["held_until"] is not None else None,
            }
        )

    def _insert_lease(self, target: str, identity: RunIdentity, now: datetime) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(target=target, **_lease_values(identity, now)))
        except sa.exc.IntegrityError:  # another run inserted it first
            return False
        return True

    def _replace_lease(self, old: Lease, identity: RunIdentity, now: datetime) -> bool:
        """Compare and swap: only if the lease is still what was read."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    leases.update()
                    .where(
                        *_holder(old.target, old.dag_id, old.dag_run_id),
                        leases.c.heartbeat_at == old.heartbeat_at,
                    )
                    .values(**_lease_values(identity, now))
                ).rowcount
            )

    # -- reading ---------------------------------------------------------------------------------

    def recent_runs(self, limit: int = 30, dag_id: str | None = None) -> list[RunRecord]:
        """The last ``limit`` runs, newest first."""
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if dag_id is not None:
            query = query.where(runs.c.dag_id == dag_id)
        with self.engine.connect() as conn:
            return [_run_record(row._mapping) for row in conn.execute(query)]

    def list_runs(
        self,
        *,
        dag_ids: Collection[str] | None = None,
        status: str | None = None,
        started_from: datetime | None = None,
        started_before: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> RunPage:
        """One page of runs, newest first, of ``dag_ids`` (all when None) with the optional filters."""
        conditions = []
        if dag_ids is not None:
            conditions.append(runs.c.dag_id.in_(sorted(dag_ids)))
        if status is not None:
            conditions.append(runs.c.status == status)
        if started_from is not None:
            conditions.append(runs.c.started_at >= started_from)
        if started_before is not None:
            conditions.append(runs.c.started_at < started_before)
        query = (
            sa.select(runs)
            .where(*conditions)
            .order_by(runs.c.started_at.desc(), runs.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(runs).where(*conditions)).scalar()
            records = [_run_record(row._mapping) for row in conn.execute(query)]
        return RunPage(records, int(total or 0))

    def dag_ids(self) -> list[str]:
        """The DAGs that have runs in the history."""
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.select(runs.c.dag_id).distinct()).scalars())

    def reject_counts(self, run_ids: Collection[int]) -> dict[int, int]:
        """How many rejects each of ``run_ids`` has (runs without any are left out)."""
        counts: dict[int, int] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(run_ids)):
                query = (
                    sa.select(rejects.c.run_id, sa.func.count())
                    .where(rejects.c.run_id.in_(chunk))
                    .group_by(rejects.c.run_id)
                )
                counts.update({int(run_id): int(count) for run_id, count in conn.execute(query)})
        return counts

    def operation_history(
        self, names: Collection[str], *, dag_ids: Collection[str] | None = None, limit: int = 1000
    ) -> pd.DataFrame:
        """Operations on these users or groups (as target or membership group), newest first (HISTORY)."""
        names = sorted(set(names))
        conditions = [sa.or_(operations.c.target.in_(names), operations.c.group.in_(names))]
        if dag_ids is not None:
            conditions.append(runs.c.dag_id.in_(sorted(dag_ids)))
        query = (
            sa.select(
                runs.c.id.label("run_id"),
                runs.c.dag_id,
                runs.c.dag_run_id,
                runs.c.started_at,
                runs.c.dry_run,
                *(operations.c[name] for name in REASONED),
            )
            .join(runs, operations.c.run_id == runs.c.id)
            .where(*conditions)
            .order_by(runs.c.started_at.desc(), runs.c.id.desc(), operations.c.id.desc())
            .limit(limit)
        )
        return self._frame(query, HISTORY)

    def find_names(
        self, text: str, *, dag_ids: Collection[str] | None = None, limit: int = 20
    ) -> NameMatches:
        """Users and groups whose names contain ``text`` (users also by email or display name).

        Only names that runs of ``dag_ids`` (all when None) pushed, managed or operated on.
        """
        pattern = f"%{_escape_like(text.strip().lower())}%"

        def like(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
            return sa.func.lower(column).like(pattern, escape="\\")

        def of_dags(run_id: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
            if dag_ids is None:
                return []
            return [run_id.in_(sa.select(runs.c.id).where(runs.c.dag_id.in_(sorted(dag_ids))))]

        def names(column: sa.ColumnElement[Any], *conditions: sa.ColumnElement[bool]) -> set[str]:
            query = sa.select(column).where(*conditions).distinct().limit(limit)
            return set(conn.execute(query).scalars())

        with self.engine.connect() as conn:
            users = names(
                ledger.c.username,
                sa.or_(like(ledger.c.username), like(ledger.c.email), like(ledger.c.display_name)),
                *of_dags(ledger.c.run_id),
            ) | names(
                operations.c.target,
                operations.c.operation.not_in(GROUP_OPERATIONS),
                like(operations.c.target),
                *of_dags(operations.c.run_id),
            )
            groups = names(
                managed_groups.c.name, like(managed_groups.c.name), *of_dags(managed_groups.c.run_id)
            ) | names(operations.c.group, like(operations.c.group), *of_dags(operations.c.run_id))
        return NameMatches(users=sorted(users)[:limit], groups=sorted(groups)[:limit])

    def ledger_entry(self, username: str, *, dag_ids: Collection[str] | None = None) -> dict[str, Any] | None:
        """What runs of ``dag_ids`` last pushed for ``username``: email, display name, when, which run."""
        conditions = [ledger.c.username == username]
        if dag_ids is not None:
            conditions.append(
                ledger.c.run_id.in_(sa.select(runs.c.id).where(runs.c.dag_id.in_(sorted(dag_ids))))
            )
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(ledger).where(*conditions)).one_or_none()
        if row is None:
            return None
        entry = dict(row._mapping)
        entry["pushed_at"] = _utc(entry["pushed_at"])
        return entry

    def get_run(self, run_id: int) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one_or_none()
        return _run_record(row._mapping) if row is not None else None

    def find_run(self, dag_id: str, dag_run_id: str) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(runs).where(runs.c.dag_id == dag_id, runs.c.dag_run_id == dag_run_id)
            ).one_or_none()
        return _run_record(row._mapping) if row is not None else None

    def runs_of_dag_run(self, dag_run_id: str) -> list[RunRecord]:
        """The runs recorded for this DAG run id (one per DAG that used it)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs).where(runs.c.dag_run_id == dag_run_id).order_by(runs.c.id))
            return [_run_record(row._mapping) for row in rows]

    def operations(self, run_id: int) -> pd.DataFrame:
        """The run's operations in the order they were recorded (OPERATIONS)."""
        return self._run_operations(run_id, OPERATIONS)

    def operations_with_reasons(self, run_id: int, *, status: str | None = None) -> pd.DataFrame:
        """The run's operations (all, or those with ``status``) and the plan's reason for each (REASONED)."""
        return self._run_operations(run_id, REASONED, status)

    def _run_operations(
        self, run_id: int, schema: Mapping[str, str], status: str | None = None
    ) -> pd.DataFrame:
        conditions = [operations.c.run_id == run_id]
        if status is not None:
            conditions.append(operations.c.status == status)
        query = (
            sa.select(*(operations.c[name] for name in schema)).where(*conditions).order_by(operations.c.id)
        )
        return self._frame(query, schema)

    def rejects(self, run_id: int) -> pd.DataFrame:
        """The run's rejects (frames.REJECTS columns)."""
        query = (
            sa.select(
                rejects.c.source,
                rejects.c.kind,
                rejects.c.dn,
                rejects.c.entry_id.label("id"),
                rejects.c.reason,
            )
            .where(rejects.c.run_id == run_id)
            .order_by(rejects.c.id)
        )
        return self._frame(query, frames.REJECTS)

    def ledger(self) -> pd.DataFrame:
        """The attributes last pushed per user (LEDGER), by username."""
        query = sa.select(*(ledger.c[name] for name in LEDGER)).order_by(ledger.c.username)
        return self._frame(query, LEDGER)

    def refused_domains(self) -> frozenset[str]:
        """The users (lower-case names) whose last creation failed because the target refused their
        email's domain (Atlassian Cloud's unverified domains): not sent again until the name changes."""
        latest = (
            sa.select(sa.func.max(operations.c.id).label("id"))
            .where(operations.c.operation == "create_user")
            .group_by(operations.c.target)
            .subquery()
        )
        query = (
            sa.select(operations.c.target)
            .join(latest, operations.c.id == latest.c.id)
            .where(operations.c.status == "failed", operations.c.error.contains(REFUSED_DOMAIN))
        )
        with self.engine.connect() as conn:
            return frozenset(target.lower() for target in conn.execute(query).scalars())

    def account_links(self, site: str) -> dict[str, str]:
        """account id -> IdP id of the site's accounts linked by earlier plans."""
        query = sa.select(account_links.c.account_id, account_links.c.idp_id).where(
            account_links.c.site == site
        )
        with self.engine.connect() as conn:
            return {account_id: idp_id for account_id, idp_id in conn.execute(query)}

    def link_accounts(self, site: str, links: Mapping[str, str]) -> None:
        """Keep (or replace) the IdP id of each account, in one transaction."""
        if not links:
            return
        now = _now()
        rows = [
            {"site": site, "account_id": account_id, "idp_id": idp_id, "linked_at": now}
            for account_id, idp_id in links.items()
        ]
        with self.engine.begin() as conn:
            for chunk in _chunks(list(links)):
                conn.execute(
                    account_links.delete().where(
                        account_links.c.site == site, account_links.c.account_id.in_(chunk)
                    )
                )
            conn.execute(account_links.insert(), rows)

    def managed_groups(self) -> frozenset[str]:
        with self.engine.connect() as conn:
            return frozenset(conn.execute(sa.select(managed_groups.c.name)).scalars())

    def source_state(self, source_key: str) -> dict[str, Any] | None:
        """The saved state of a source (``fingerprint``, ``cursor``, ``tables``, ``updated_at``), or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(source_states).where(source_states.c.source_key == source_key))
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def save_source_state(
        self, source_key: str, fingerprint: str, cursor: Mapping[str, Any], tables: Mapping[str, str]
    ) -> None:
        """Replace a source's saved state in one transaction (the snapshot files are written first)."""
        values = {
            "fingerprint": fingerprint,
            "cursor": dict(cursor),
            "tables": dict(tables),
            "updated_at": _now(),
        }
        with self.engine.begin() as conn:
            conn.execute(source_states.delete().where(source_states.c.source_key == source_key))
            conn.execute(source_states.insert().values(source_key=source_key, **values))

    def has_applied_run(self) -> bool:
        """Whether a run that was not a dry run has succeeded (after it, a run is no first contact)."""
        query = sa.select(runs.c.id).where(runs.c.status == SUCCESS, runs.c.dry_run.is_(False)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def _frame(self, query: sa.Select, schema: Mapping[str, str]) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=list(schema), dtype=object)
        for name, dtype in schema.items():
            if dtype.startswith("datetime64"):
                # SQLite hands back naive datetimes; everything written here is UTC
                frame[name] = pd.to_datetime(frame[name].map(_utc, na_action="ignore"), utc=True)
        return frames.conform(frame, schema)


def _holder(target: str, dag_id: str, dag_run_id: str) -> list[sa.ColumnElement[bool]]:
    return [leases.c.target == target, leases.c.dag_id == dag_id, leases.c.dag_run_id == dag_run_id]


def _lease_values(identity: RunIdentity, now: datetime) -> dict[str, Any]:
    return {
        "dag_id": identity.dag_id,
        "dag_run_id": identity.dag_run_id,
        "run_started_at": identity.started_at,
        "heartbeat_at": now,
        "held_until": None,
    }


def _run_record(row: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        id=row["id"],
        dag_id=row["dag_id"],
        dag_run_id=row["dag_run_id"],
        started_at=_utc(row["started_at"]),
        ended_at=_utc(row["ended_at"]) if row["ended_at"] is not None else None,
        rules_file=row["rules_file"],
        rules_sha256=row["rules_sha256"],
        dry_run=bool(row["dry_run"]),
        status=row["status"],
        counts=row["counts"] or {},
        error=row["error"],
        report_uri=row["report_uri"],
        source=row["source"],
        target=row["target"],
    )


def _records(frame: pd.DataFrame, columns: list[str]) -> Iterator[dict[str, Any]]:
    """Rows of ``frame`` as plain Python values (None for missing) for the database driver."""
    for values in frame[columns].itertuples(index=False, name=None):
        yield {name: _plain(value) for name, value in zip(columns, values, strict=True)}


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything written here is UTC
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)
