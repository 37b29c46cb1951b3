"""Airflow's simple auth manager, plus per-DAG read grants as FAB or Keycloak would give them.

The simple auth manager grants a role on every DAG at once; the route tests need
a user who may read one DAG and not another, so a user named here may read only
the DAGs listed (and what their role allows of those).
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

ONLY_DAGS: dict[str, set[str]] = {"cloud-viewer": {"cloud_provisioning"}}


class PerDagAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        granted = ONLY_DAGS.get(user.username)
        if granted is not None and (details is None or details.id not in granted):
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
