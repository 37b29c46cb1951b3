"""The Confluence Data Center connection type: its name and form.

Free of Airflow imports, so that Airflow's provider discovery (``provider.get_provider_info``)
reads them without importing the hook."""

from __future__ import annotations

from typing import Any

from confluence_provisioning.targets.connection_extras import TRANSPORT_FIELDS

CONN_TYPE = "confluence"
HOOK_NAME = "Confluence Data Center"

FORM: dict[str, Any] = {
    "conn-fields": {
        "token": {
            "label": "Personal access token",
            "description": "Instead of login and password (it wins over them).",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        **TRANSPORT_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["extra"],
        "relabeling": {"host": "Base URL", "schema": "Scheme", "login": "Admin username"},
        "placeholders": {
            "host": "https://wiki.example.com/confluence",
            "schema": "https (when the base URL has none)",
            "login": "an account in confluence-administrators",
            "port": "only when the base URL has none",
        },
    },
}
