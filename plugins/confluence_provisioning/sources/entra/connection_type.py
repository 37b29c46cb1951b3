"""The Microsoft Entra ID connection type: its name and form.

Free of Airflow imports, so that Airflow's provider discovery (``provider.get_provider_info``)
reads them without importing the hook."""

from __future__ import annotations

from typing import Any

CONN_TYPE = "entra_id"
HOOK_NAME = "Microsoft Entra ID"
GRAPH_URL = "https://graph.microsoft.com"
AUTHORITY = "https://login.microsoftonline.com"


FORM: dict[str, Any] = {
    "conn-fields": {
        "tenant_id": {"label": "Tenant ID", "schema": {"type": ["string", "null"]}},
        "authority": {
            "label": "Authority",
            "description": "the token service (default https://login.microsoftonline.com)",
            "schema": {"type": ["string", "null"]},
        },
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"login": "Client ID", "password": "Client secret", "host": "Graph URL"},
        "placeholders": {"host": GRAPH_URL},
    },
}
