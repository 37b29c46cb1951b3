"""The audit store: runs, operations, rejects, ledger and managed groups, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from confluence_provisioning import audit, frames
from confluence_provisioning.audit import AuditError, AuditStore, RunIdentity, RunOutcome

STARTED = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
ENDED = STARTED + timedelta(minutes=3)


def identity(dag_run_id: str = "scheduled__2025-03-01T02:00:00+00:00", **changes) -> RunIdentity:
    values = {
        "dag_id": "confluence_provisioning",
        "dag_run_id": dag_run_id,
        "started_at": STARTED,
        "rules_file": "default.yaml",
        "rules_sha256": "a" * 64,
        "dry_run": False,
    }
    return RunIdentity(**{**values, **changes})


def results(*rows: tuple) -> pd.DataFrame:
    return frames.conform(pd.DataFrame(rows, columns=list(audit.OPERATIONS)), audit.OPERATIONS)


OPERATIONS = results(
    ("create_group", "engineering", None, "done", 201, 1, 12.5, None),
    ("create_user", "alice", None, "done", 201, 1, 30.0, None),
    ("create_user", "bob", None, "failed", 400, 1, 8.0, "email: not a valid address"),
    ("add_membership", "alice", "engineering", "done", 204, 2, 40.0, None),
)
REJECTS = frames.from_records(
    [
        {
            "source": "idp",
            "kind": "user",
            "dn": "uid=carol,ou=people,dc=example,dc=org",
            "id": "c-1",
            "reason": "no mail attribute",
        }
    ],
    frames.REJECTS,
)


def outcome(**changes) -> RunOutcome:
    values = {"status": audit.SUCCESS, "ended_at": ENDED, "operations": OPERATIONS, "rejects": REJECTS}
    return RunOutcome(**{**values, **changes})


def test_a_run_is_recorded_with_its_counts_operations_and_rejects(store: AuditStore) -> None:
    run_id = store.record_run(identity(), outcome(report_uri="file:///runs/r1/report.html"))

    run = store.get_run(run_id)
    assert run == audit.RunRecord(
        id=run_id,
        dag_id="confluence_provisioning",
        dag_run_id="scheduled__2025-03-01T02:00:00+00:00",
        started_at=STARTED,
        ended_at=ENDED,
        rules_file="default.yaml",
        rules_sha256="a" * 64,
        dry_run=False,
        status="success",
        counts={
            "add_membership": {"done": 1},
            "create_group": {"done": 1},
            "create_user": {"done": 1, "failed": 1},
        },
        error=None,
        report_uri="file:///runs/r1/report.html",
    )
    assert run.total() == 4 and run.total("failed") == 1
    pd.testing.assert_frame_equal(store.operations(run_id), OPERATIONS)
    pd.testing.assert_frame_equal(store.rejects(run_id), REJECTS)


def test_recording_the_same_run_again_replaces_it_instead_of_adding(store: AuditStore) -> None:
    first = store.record_run(identity(), outcome())
    again = store.record_run(
        identity(), outcome(operations=OPERATIONS.iloc[:1], rejects=frames.empty(frames.REJECTS))
    )

    assert again == first
    assert len(store.recent_runs()) == 1
    assert store.operations(first)["target"].tolist() == ["engineering"]
    assert store.rejects(first).empty
    assert store.get_run(first).counts == {"create_group": {"done": 1}}


def test_a_failure_is_recorded_and_its_first_error_is_kept(store: AuditStore) -> None:
    run_id = store.record_failure(identity(), ended_at=ENDED, error="extract_source: LDAP server unreachable")
    store.record_failure(identity(), ended_at=ENDED, error="report: nothing to report")

    run = store.get_run(run_id)
    assert (run.status, run.error, run.counts, run.ended_at) == (
        "failed",
        "extract_source: LDAP server unreachable",
        {},
        ENDED,
    )
    # the report of the same run (it runs after failures) keeps the cause as well
    store.record_run(identity(), outcome(status=audit.FAILED))
    assert store.get_run(run_id).error == "extract_source: LDAP server unreachable"
    assert store.get_run(run_id).total() == 4


def test_recent_runs_are_newest_first_and_limited(store: AuditStore) -> None:
    for day in range(5):
        store.record_run(
            identity(f"run-{day}", started_at=STARTED + timedelta(days=day)),
            outcome(ended_at=ENDED + timedelta(days=day)),
        )
    store.record_run(identity("other", dag_id="another_sync"), outcome())

    assert [run.dag_run_id for run in store.recent_runs(3, dag_id="confluence_provisioning")] == [
        "run-4",
        "run-3",
        "run-2",
    ]
    assert len(store.recent_runs()) == 6
    assert store.find_run("another_sync", "other").dag_id == "another_sync"
    assert store.find_run("another_sync", "nope") is None
    assert store.get_run(999) is None


def test_the_ledger_keeps_the_attributes_last_pushed_per_user(store: AuditStore) -> None:
    first = pd.DataFrame(
        {"username": ["alice", "bob"], "email": ["alice@example.org", None], "display_name": ["Alice", "Bob"]}
    )
    store.record_run(identity("r1"), outcome(pushed=first))
    later = ENDED + timedelta(days=1)
    store.record_run(
        identity("r2"),
        outcome(
            ended_at=later,
            pushed=pd.DataFrame(
                {"username": ["bob"], "email": ["bob@example.org"], "display_name": ["Bob B."]}
            ),
        ),
    )

    expected = pd.DataFrame(
        {
            "username": ["alice", "bob"],
            "email": ["alice@example.org", "bob@example.org"],
            "display_name": ["Alice", "Bob B."],
            "pushed_at": [ENDED, later],
        }
    )
    pd.testing.assert_frame_equal(store.ledger(), frames.conform(expected, audit.LEDGER))


def test_managed_groups_are_added_and_released(store: AuditStore) -> None:
    store.record_run(identity("r1"), outcome(groups_now_managed=frozenset({"engineering", "sales"})))
    store.record_run(
        identity("r2"),
        outcome(
            groups_now_managed=frozenset({"engineering", "ops"}),
            groups_no_longer_managed=frozenset({"sales"}),
        ),
    )

    assert store.managed_groups() == {"engineering", "ops"}


def test_account_links_are_kept_per_site_and_replaced(store: AuditStore) -> None:
    cloud, other = (
        "atlassian_cloud:https://api/scim/directory/d1",
        "atlassian_cloud:https://api/scim/directory/d2",
    )
    store.link_accounts(cloud, {"scim-1": "uuid-a", "scim-2": "uuid-b"})
    store.link_accounts(other, {"scim-1": "uuid-x"})
    store.link_accounts(cloud, {"scim-2": "uuid-c"})
    assert store.account_links(cloud) == {"scim-1": "uuid-a", "scim-2": "uuid-c"}
    assert store.account_links(other) == {"scim-1": "uuid-x"}
    assert store.account_links("confluence_data_center:https://wiki") == {}


def test_an_empty_store_reads_as_empty(store: AuditStore) -> None:
    assert store.recent_runs() == []
    pd.testing.assert_frame_equal(store.ledger(), frames.empty(audit.LEDGER))
    assert store.managed_groups() == frozenset()
    assert store.operations(1).empty


def test_an_old_store_is_upgraded_in_place(audit_url: sa.URL) -> None:
    engine = sa.create_engine(audit_url)
    # the runs table as an earlier version had it: no report_uri column, no other tables
    old = sa.MetaData()
    sa.Table(
        "provisioning_runs",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        *(
            sa.Column(name, sa.Text)
            for name in ("dag_id", "dag_run_id", "rules_file", "rules_sha256", "status")
        ),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("dry_run", sa.Boolean),
        sa.Column("counts", sa.JSON),
        sa.Column("error", sa.Text),
    )
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO provisioning_runs (dag_id, dag_run_id, started_at, rules_file, rules_sha256,"
                " dry_run, status, counts) VALUES ('d', 'old-run', :started, 'default.yaml', 'x', false,"
                " 'success', '{}')"
            ),
            {"started": STARTED},
        )
    engine.dispose()

    store = AuditStore(audit_url)
    AuditStore(audit_url).close()  # a second open changes nothing

    assert store.schema_version() == audit.SCHEMA_VERSION
    old_run = store.find_run("d", "old-run")
    assert (old_run.status, old_run.report_uri) == ("success", None)
    run_id = store.record_run(identity(), outcome(report_uri="file:///r/report.html"))
    assert store.get_run(run_id).report_uri == "file:///r/report.html"
    store.close()


def test_the_store_url_comes_from_the_airflow_connection(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUDIT_PG",
        '{"conn_type": "postgres", "host": "db.example.org", "port": 5433, "login": "sync",'
        ' "password": "s3cret/pw", "schema": "audit"}',
    )
    monkeypatch.setenv("AIRFLOW_CONN_AUDIT_FTP", '{"conn_type": "ftp", "host": "x"}')

    assert audit.audit_url("audit_pg").render_as_string(hide_password=False) == (
        "postgresql+psycopg://sync:s3cret%2Fpw@db.example.org:5433/audit"
    )
    assert audit.audit_url("not_defined") == sa.URL.create(
        "sqlite", database=str(tmp_path / "confluence_provisioning" / "audit.db")
    )
    with pytest.raises(
        AuditError, match=r"^Airflow connection 'audit_ftp' has type 'ftp'; the audit store needs"
    ):
        audit.audit_url("audit_ftp")


def test_each_operation_keeps_its_reason_and_an_old_store_gains_the_column_and_indexes(
    audit_url: sa.URL,
) -> None:
    # the operations table as it was before reasons were kept: no reason column, no indexes
    old = sa.MetaData()
    sa.Table(
        "provisioning_operations",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        *(sa.Column(name, sa.Text) for name in ("operation", "target", "group", "status", "error")),
        sa.Column("http_status", sa.Integer),
        sa.Column("attempts", sa.Integer),
        sa.Column("duration_ms", sa.Float),
    )
    engine = sa.create_engine(audit_url)
    old.create_all(engine)
    engine.dispose()

    store = AuditStore(audit_url)
    inspector = sa.inspect(store.engine)
    assert "reason" in {column["name"] for column in inspector.get_columns("provisioning_operations")}
    assert {index["name"] for index in inspector.get_indexes("provisioning_operations")} >= {
        "ix_provisioning_operations_target",
        "ix_provisioning_operations_group",
    }
    reasons = ["rule manual mapping from 'engineering': the group is not in Confluence", "new", None, "qa"]
    run_id = store.record_run(identity(), outcome(operations=OPERATIONS.assign(reason=reasons)))

    failed = store.operations_with_reasons(run_id, status="failed")
    assert failed[["target", "error"]].values.tolist() == [["bob", "email: not a valid address"]]
    assert failed["reason"].isna().all()
    assert store.operations_with_reasons(run_id)["reason"].tolist()[:2] == reasons[:2]
    pd.testing.assert_frame_equal(store.operations(run_id), OPERATIONS)
    history = store.operation_history({"alice"})
    assert history[["dag_run_id", "operation", "group", "reason"]].values.tolist() == [
        ["scheduled__2025-03-01T02:00:00+00:00", "add_membership", "engineering", "qa"],
        ["scheduled__2025-03-01T02:00:00+00:00", "create_user", pd.NA, "new"],
    ]
    store.close()
