"""The Okta connection type: its name and form.

Free of Airflow imports, so that Airflow's provider discovery (``provider.get_provider_info``)
reads them without importing the hook."""

from __future__ import annotations

from typing import Any

CONN_TYPE = "okta"
HOOK_NAME = "Okta"

FORM: dict[str, Any] = {
    "conn-fields": {
        "client_id": {
            "label": "Service app client ID",
            "description": "OAuth 2.0 service app instead of an API token",
            "schema": {"type": ["string", "null"]},
        },
        "private_key": {
            "label": "Service app private key (PEM, or a file path)",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "Org URL", "password": "API token"},
        "placeholders": {"host": "https://example.okta.com"},
    },
}
