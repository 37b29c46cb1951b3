"""The Provisioning routes as Airflow serves them: its API server app, with this project's plugin.

The app is Airflow's own (``create_app``), with the plugin loaded from the
plugins folder, and the auth manager issuing real JWTs. The audit store is
reached through the Airflow connection the DAG uses, pointed at SQLite or at
PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from confluence_provisioning.audit import AuditStore
from tests.ui.history_site import HistorySite, populate

AUDIT_CONN = "AIRFLOW_CONN_CONFLUENCE_PROVISIONING_AUDIT"
USERS = {"admin": "admin", "viewer": "viewer", "cloud-viewer": "viewer", "nobody": None}


@pytest.fixture(scope="module")
def airflow_api(airflow_db: Path) -> Iterator[TestClient]:
    """Airflow's API server app (core part), with the plugin, behind the per-DAG auth manager."""
    from airflow.api_fastapi import app as api_app

    os.environ["AIRFLOW__CORE__AUTH_MANAGER"] = "tests.ui.auth_manager.PerDagAuthManager"
    api_app.purge_cached_app()
    try:
        with TestClient(api_app.create_app("core")) as client:
            yield client
    finally:
        del os.environ["AIRFLOW__CORE__AUTH_MANAGER"]
        api_app.purge_cached_app()


@pytest.fixture(scope="module")
def tokens(airflow_api: TestClient) -> dict[str, str]:
    """A JWT per user, as the UI's login would issue it."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    manager = get_auth_manager()
    return {
        name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))
        for name, role in USERS.items()
    }


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def history(
    request: pytest.FixtureRequest, airflow_api: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HistorySite]:
    """The populated history, in the store the plugin reads through the DAG's audit connection."""
    from confluence_provisioning.ui.app import app as plugin_app

    folder = tmp_path_factory.mktemp(f"history-{request.param}")
    if request.param == "sqlite":
        url = sa.URL.create("sqlite", database=str(folder / "audit.db"))
        connection = {"conn_type": "sqlite", "host": str(folder / "audit.db")}
    else:
        url = request.getfixturevalue("postgres_server").create_schema()
        connection = {
            "conn_type": "postgres",
            "extra": {"sqlalchemy_url": url.render_as_string(hide_password=False)},
        }
    os.environ[AUDIT_CONN] = json.dumps(connection)
    plugin_app.state.audit_store.cache_clear()
    store = AuditStore(url)
    try:
        yield populate(store, folder / "runs")
    finally:
        store.close()
        plugin_app.state.audit_store().close()
        plugin_app.state.audit_store.cache_clear()
        del os.environ[AUDIT_CONN]
