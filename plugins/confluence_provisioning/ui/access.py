"""Who may see what: Airflow's auth manager decides, per DAG.

Every route depends on ``Reader``: the request must carry an Airflow session
(the UI's cookie or a bearer token, checked by Airflow's own ``get_user``:
401 without one), and it sees the history of the DAGs the auth manager lets
the user read, nothing else. A user who may read none of the DAGs that have a
history gets 403 everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Request, status

from confluence_provisioning.audit import AuditStore, RunRecord


@dataclass(frozen=True)
class Reader:
    user: BaseUser
    dag_ids: frozenset[str]  # the DAGs with a history that this user may read
    store: AuditStore

    def require_run(self, run: RunRecord | None) -> RunRecord:
        """The run if it exists and its DAG is readable: 404 or 403 otherwise."""
        if run is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such run in the audit history")
        if run.dag_id not in self.dag_ids:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"You may not read the DAG {run.dag_id}")
        return run


def reader(request: Request, user: GetUserDep) -> Reader:
    store: AuditStore = request.app.state.audit_store()
    in_history = set(store.dag_ids())
    readable = get_auth_manager().filter_authorized_dag_ids(dag_ids=in_history, user=user, method="GET")
    if in_history and not readable:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "You may not read any DAG whose provisioning history is kept here"
        )
    return Reader(user=user, dag_ids=frozenset(readable), store=store)


ReaderDep = Annotated[Reader, Depends(reader)]
