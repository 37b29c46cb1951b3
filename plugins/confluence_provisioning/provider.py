"""This project as an Airflow provider: its connection types, with their form fields and Test button.

Airflow finds it through the ``apache_airflow_provider`` entry point
(``pyproject.toml``) and reads ``get_provider_info()``: each hook of ``HOOKS``
becomes a connection type in Admin > Connections, with the fields the hook
declares in ``connection_form`` and its ``test_connection()`` behind the Test
button (and behind the REST API's ``POST /api/v2/connections/test``).

A new source or target hook is registered by adding its class path to
``HOOKS``; the hook class carries the rest (``conn_type``, ``hook_name``,
``conn_name_attr``, ``connection_form``, ``test_connection``).
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

PACKAGE_NAME = "confluence-provisioning"

# one line per hook: the class's dotted path
HOOKS: tuple[str, ...] = (
    "confluence_provisioning.sources.ldap.hook.LdapHook",
    "confluence_provisioning.targets.confluence_dc.hook.ConfluenceHook",
    "confluence_provisioning.sources.okta.hook.OktaHook",
    "confluence_provisioning.sources.entra.hook.EntraHook",
    "confluence_provisioning.targets.atlassian_cloud.hook.AtlassianScimHook",
)


def _being_imported(path: str) -> bool:
    """A hook whose module is importing Airflow right now (it was a process's first Airflow import):
    Airflow asks for provider info while it imports itself, before that module defines its class."""
    module, name = path.rsplit(".", 1)
    return module in sys.modules and not hasattr(sys.modules[module], name)


def hook_class(path: str) -> Any:
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def connection_type(path: str) -> dict[str, Any]:
    """The provider-info entry of one hook: its type, name, form fields and field behaviour."""
    hook = hook_class(path)
    form = getattr(hook, "connection_form", {})
    return {
        "connection-type": hook.conn_type,
        "hook-class-name": path,
        "hook-name": hook.hook_name,
        **{key: form[key] for key in ("conn-fields", "ui-field-behaviour") if key in form},
    }


def get_provider_info() -> dict[str, Any]:
    """What Airflow's ProvidersManager reads (the runtime provider-info schema)."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "Confluence provisioning",
        "description": "Keeps Atlassian users and groups in step with the identity provider.",
        "connection-types": [connection_type(path) for path in HOOKS if not _being_imported(path)],
    }
