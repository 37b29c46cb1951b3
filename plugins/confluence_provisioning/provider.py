"""This project as an Airflow provider: its connection types, with their form fields and Test button.

Airflow finds it through the ``apache_airflow_provider`` entry point
(``pyproject.toml``) and reads ``get_provider_info()``: each hook of ``HOOKS``
becomes a connection type in Admin > Connections, with the fields of its
``connection_type`` module and the hook's ``test_connection()`` behind the Test
button (and behind the REST API's ``POST /api/v2/connections/test``).

Airflow asks for this while it first imports itself, so it reads only the
``connection_type`` modules (name and form, no Airflow imports), never a hook:
whatever a process imports first (a hook, a source's reader), provider discovery
cannot meet a half-imported module of ours.

A new source or target hook is registered by adding its class path to ``HOOKS``
and a ``connection_type`` module beside it; the hook class takes its ``conn_type``,
``hook_name`` and ``connection_form`` from that module and carries the rest
(``conn_name_attr``, ``test_connection``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

PACKAGE_NAME = "confluence-provisioning"

# one line per hook: the class's dotted path (its package's ``connection_type`` module names it)
HOOKS: tuple[str, ...] = (
    "confluence_provisioning.sources.ldap.hook.LdapHook",
    "confluence_provisioning.targets.confluence_dc.hook.ConfluenceHook",
    "confluence_provisioning.sources.okta.hook.OktaHook",
    "confluence_provisioning.sources.entra.hook.EntraHook",
    "confluence_provisioning.targets.atlassian_cloud.hook.AtlassianScimHook",
)


def hook_class(path: str) -> Any:
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def connection_type(path: str) -> dict[str, Any]:
    """The provider-info entry of one hook: its type, name, form fields and field behaviour."""
    kind = import_module(f"{path.rsplit('.', 2)[0]}.connection_type")  # beside the hook, not the hook
    return {
        "connection-type": kind.CONN_TYPE,
        "hook-class-name": path,
        "hook-name": kind.HOOK_NAME,
        **{key: kind.FORM[key] for key in ("conn-fields", "ui-field-behaviour") if key in kind.FORM},
    }


def get_provider_info() -> dict[str, Any]:
    """What Airflow's ProvidersManager reads (the runtime provider-info schema)."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "Confluence provisioning",
        "description": "Keeps Atlassian users and groups in step with the identity provider.",
        "connection-types": [connection_type(path) for path in HOOKS],
    }
