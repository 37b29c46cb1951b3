"""The Airflow hook for an Entra ID connection: connection -> a Graph client, nothing more.

Connection (type ``entra_id``, default id ``entra_default``): host = the Graph base URL (default
``https://graph.microsoft.com``), login = the application (client) id, password = the client
secret, extras ``tenant_id`` (required), ``authority`` (the token service's base URL, default
``https://login.microsoftonline.com``), ``verify`` (TLS, default true; or a CA bundle path) and
``timeout`` (seconds, default 60). For example::

    AIRFLOW_CONN_ENTRA_DEFAULT='{"conn_type": "entra_id", "login": "<client id>",
      "password": "<client secret>", "extra": {"tenant_id": "<tenant id>"}}'

A connection of the Microsoft provider's ``msgraph`` type works too: its host (with its schema),
login, password and extras ``tenant_id`` (or ``tenantId``), ``authority``, ``api_version`` (only
``v1.0``) and ``verify`` mean the same. The secret is never logged or put in a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from confluence_provisioning.settings import RetrySettings
from confluence_provisioning.sources.entra import connection_type
from confluence_provisioning.sources.entra.client import GraphClient
from confluence_provisioning.sources.entra.errors import EntraReadError


@dataclass(frozen=True)
class EntraOptions:
    graph_url: str
    authority: str
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    verify: bool | str = True
    timeout: float = 60.0


def parse_options(
    conn_id: str,
    schema: str | None,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    extra: dict[str, Any],
) -> EntraOptions:
    """The connection's fields, checked; EntraReadError naming the connection and the fix."""

    def fix(what: str) -> EntraReadError:
        return EntraReadError(f"Airflow connection {conn_id!r}: {what}")

    tenant = extra.get("tenant_id") or extra.get("tenantId")
    if not tenant:
        raise fix("set the extra 'tenant_id' to the directory (tenant) id")
    if not login:
        raise fix("set login to the application (client) id of the app registration")
    if not password:
        raise fix("set password to a client secret of the app registration")
    version = extra.get("api_version") or "v1.0"
    if version != "v1.0":
        raise fix(f"api_version {version!r} is not supported; use v1.0")
    graph_url = _url(schema, host, port) or connection_type.GRAPH_URL
    verify = extra.get("verify", True)
    if isinstance(verify, str) and verify.lower() in ("true", "false"):
        verify = verify.lower() == "true"
    return EntraOptions(
        graph_url=graph_url,
        authority=(extra.get("authority") or connection_type.AUTHORITY).rstrip("/"),
        tenant_id=str(tenant),
        client_id=login,
        client_secret=password,
        verify=verify,
        timeout=float(extra.get("timeout") or 60.0),
    )


def _url(schema: str | None, host: str | None, port: int | None) -> str | None:
    """The Graph base URL from host (a URL, or a name with schema/port as msgraph connections hold it)."""
    if not host:
        return None
    host = host.rstrip("/")
    if "://" not in host:
        host = f"{schema or 'https'}://{host}" + (f":{port}" if port and f":{port}" not in host else "")
    return host.removesuffix("/v1.0")


class EntraHook(BaseHook):
    conn_name_attr = "entra_conn_id"
    default_conn_name = "entra_default"
    conn_type = connection_type.CONN_TYPE
    hook_name = connection_type.HOOK_NAME
    connection_form: ClassVar[dict[str, Any]] = connection_type.FORM

    def __init__(self, entra_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.entra_conn_id = entra_conn_id

    def __repr__(self) -> str:
        return f"EntraHook(entra_conn_id={self.entra_conn_id!r})"

    @cached_property
    def options(self) -> EntraOptions:
        """The connection's fields, checked (the Connection itself is not kept: its repr shows the secret)."""
        try:
            conn = self.get_connection(self.entra_conn_id)
        except AirflowNotFoundException as error:
            variable = f"AIRFLOW_CONN_{self.entra_conn_id.upper()}"
            raise EntraReadError(
                f"Airflow connection {self.entra_conn_id!r} is not defined; create it, or set {variable} "
                "to its JSON (see confluence_provisioning.sources.entra.hook)"
            ) from error
        return parse_options(
            self.entra_conn_id,
            conn.schema,
            conn.host,
            conn.port,
            conn.login,
            conn.password,
            conn.extra_dejson,
        )

    def get_conn(self, retry: RetrySettings | None = None) -> GraphClient:
        """A new Graph client (it gets its token on first use); the caller closes it."""
        return GraphClient(self.options, retry, on_retry=self.log.warning)

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test connection": get a token and read one user and one group."""
        try:
            with self.get_conn() as client:
                users = client.get_json("users?$select=id&$top=1")["value"]
                groups = client.get_json("groups?$select=id&$top=1")["value"]
        except EntraReadError as error:
            return False, str(error)
        return True, (
            f"signed in to tenant {self.options.tenant_id} as app {self.options.client_id}; "
            f"read {len(users)} user and {len(groups)} group (User.Read.All, GroupMember.Read.All)"
        )
