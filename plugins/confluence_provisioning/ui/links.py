"""The report task's extra link, "Sync report": the run's page in the Provisioning view."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from airflow.configuration import conf
from airflow.sdk import BaseOperatorLink

URL_PREFIX = "/provisioning"  # where Airflow mounts the plugin's app (plugin.py)


class SyncReportLink(BaseOperatorLink):
    """Links a task of a sync DAG run to that run's page; the page finds the run by DAG and run id."""

    name = "Sync report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return run_page_url(ti_key.dag_id, ti_key.run_id)


def run_page_url(dag_id: str, dag_run_id: str) -> str:
    """Absolute when Airflow knows its public URL (``[api] base_url``), else a path on the same host."""
    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}{URL_PREFIX}/dag-run?{urlencode({'dag_id': dag_id, 'run_id': dag_run_id})}"
