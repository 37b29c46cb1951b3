"""The Atlassian Cloud SCIM connection type: its name and form.

Free of Airflow imports, so that Airflow's provider discovery (``provider.get_provider_info``)
reads them without importing the hook."""

from __future__ import annotations

from typing import Any

from confluence_provisioning.targets.connection_extras import TRANSPORT_FIELDS

CONN_TYPE = "atlassian_scim"
HOOK_NAME = "Atlassian Cloud user provisioning (SCIM)"
DEFAULT_HOST = "https://api.atlassian.com"


FORM: dict[str, Any] = {
    "conn-fields": {
        "directory_id": {
            "label": "Directory ID",
            "description": "admin.atlassian.com > Security > Identity providers > your directory.",
            "schema": {"type": ["string", "null"]},
        },
        "verified_domains": {
            "label": "Verified domains",
            "description": "The organization's verified domains (a.com,b.org): other emails are "
            "refused before any request. Empty: Atlassian's own answer decides.",
            "schema": {"type": ["string", "null"]},
        },
        **TRANSPORT_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["login", "schema", "port"],
        "relabeling": {"host": "API base URL", "password": "Directory API key"},
        "placeholders": {"host": DEFAULT_HOST + " (the default when empty)"},
    },
}
