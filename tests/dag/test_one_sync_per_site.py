"""One sync at a time per Confluence site: a run stops in ``plan`` while another holds the site's lease,
and takes the lease over at once from a run Airflow says is no longer running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from confluence_provisioning.audit import RunIdentity, leases
from confluence_provisioning.settings import load_settings
from confluence_provisioning.targets import site_of
from tests.dag.conftest import DAG_ID, Site
from tests.dag.test_dag_runs import assert_stopped_in_plan, confluence_state

EXPIRY = timedelta(minutes=15)


def holder(dag_id: str, dag_run_id: str) -> RunIdentity:
    return RunIdentity(
        dag_id, dag_run_id, datetime(2025, 3, 1, 2, 0, 5, tzinfo=UTC), "default.yaml", "", False
    )


def test_a_second_run_stops_in_plan_and_a_dead_holders_lease_is_taken_over(
    site: Site, rules_dir: Path
) -> None:
    target = site_of(load_settings(rules_dir / "default.yaml"))
    assert target == f"confluence_data_center:{site.confluence.base_url}"
    # a run of another deployment, unknown to this Airflow, holds the site
    other = holder("confluence_provisioning_eu", "scheduled__2025-03-01T02:00:00+00:00")
    with site.audit() as store:
        store.take_lease(target, other, expires_after=EXPIRY, is_running=lambda dag_id, run_id: True)
    before = confluence_state(site.confluence)

    stopped = site.run()

    assert_stopped_in_plan(site, stopped, before)
    error = site.record(stopped).error
    assert error.startswith(
        f"plan: another sync of {target} is in progress: DAG run scheduled__2025-03-01T02:00:00+00:00 "
        "of confluence_provisioning_eu, started 2025-03-01 02:00:05 UTC"
    )
    with site.audit() as store:  # the report left the other run's lease alone
        assert store.heartbeat_lease(target, other) is None

    # the lease now names the failed run above: Airflow says it is over, so it is taken over at once
    with site.audit() as store, store.engine.begin() as conn:
        conn.execute(leases.update().values(dag_id=DAG_ID, dag_run_id=stopped.run_id))

    synced = site.run()

    assert synced.state == "success"
    assert site.writes() > 0
    with site.audit() as store, store.engine.connect() as conn:
        assert conn.execute(sa.select(leases)).all() == []  # released by the report
