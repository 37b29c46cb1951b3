"""The Airflow plugin declaration: the only file of the library that Airflow's plugin loader imports.

Airflow mounts the FastAPI app at ``/provisioning`` and shows it in its UI,
framed, as "Provisioning" in the navigation and as a tab of every DAG's page
(listing that DAG's runs). The "Sync report" link is attached by the DAG to
its report task (``SyncReportLink``), so it is not declared here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from confluence_provisioning.ui.app import URL_PREFIX, app


class ConfluenceProvisioningPlugin(AirflowPlugin):
    name = "confluence_provisioning"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": app, "url_prefix": URL_PREFIX, "name": "Confluence provisioning history"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Provisioning",
            "href": f"{URL_PREFIX}/",
            "url_route": "provisioning",
            "destination": "nav",
            "nav_top_level": True,
        },
        {
            "name": "Provisioning",
            "href": f"{URL_PREFIX}/?dag_id={{DAG_ID}}",
            "url_route": "provisioning-dag",
            "destination": "dag",
        },
    ]
