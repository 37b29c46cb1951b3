"""One sync at a time per Confluence site: a run stops in ``plan`` while another run holds the site's
lease. (Taking over the lease of a run Airflow says has ended: ``test_audit_store_down``.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluence_provisioning.audit import RunIdentity
from confluence_provisioning.settings import load_settings
from confluence_provisioning.targets import site_of
from tests.dag.conftest import Site
from tests.dag.test_dag_runs import assert_stopped_in_plan, confluence_state

EXPIRY = timedelta(minutes=15)


def holder(dag_id: str, dag_run_id: str) -> RunIdentity:
    return RunIdentity(
        dag_id, dag_run_id, datetime(2025, 3, 1, 2, 0, 5, tzinfo=UTC), "default.yaml", "", False
    )


def test_a_run_stops_in_plan_while_another_run_holds_the_site(site: Site, rules_dir: Path) -> None:
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
