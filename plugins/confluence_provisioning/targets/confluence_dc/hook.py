"""Airflow hook: a ConfluenceClient from an Airflow connection, and nothing else.

The connection (default ``confluence_default``, e.g. from
``AIRFLOW_CONN_CONFLUENCE_DEFAULT`` as JSON; type ``confluence``, and
connections of type ``http`` made before that type existed work the same)::

    {"conn_type": "confluence", "host": "https://wiki.example.com/confluence", "port": 8443,
     "login": "sync-bot", "password": "...",
     "extra": {"verify": true, "timeout": [10, 60], "max_in_flight": 8}}

``host`` may carry the scheme and Confluence's context path; without a
scheme, ``schema`` names it ("http"/"https", https by default). Basic auth
comes from login/password; a personal access token goes in extra ``token``
(it wins over a login). TLS is verified unless extra ``verify`` is false;
a string ``verify`` is a CA bundle path.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.log import mask_secret

from confluence_provisioning.settings import ConfluenceDcTargetSettings, Settings
from confluence_provisioning.targets.confluence_dc import connection_type
from confluence_provisioning.targets.confluence_dc.client import ConfluenceClient
from confluence_provisioning.targets.connection_extras import (
    base_url_of,
    positive_int_extra,
    timeout_extra,
    verify_extra,
)
from confluence_provisioning.targets.retry import RetryPolicy

EXTRA_KEYS = frozenset({"token", "verify", "timeout", "max_in_flight"})
# membership in one of these is what the sync's admin REST calls need (Confluence Administrator)
ADMIN_GROUPS = ("confluence-administrators", "system-administrators")


class ConfluenceHook(HttpHook):
    """Builds ConfluenceClients from the ``confluence_conn_id`` connection."""

    conn_name_attr = "confluence_conn_id"
    default_conn_name = "confluence_default"
    conn_type = connection_type.CONN_TYPE
    hook_name = connection_type.HOOK_NAME
    # the Admin > Connections form (provider.py hands it to Airflow)
    connection_form: ClassVar[dict[str, Any]] = connection_type.FORM

    def __init__(self, confluence_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=confluence_conn_id, **kwargs)
        self.confluence_conn_id = confluence_conn_id

    def get_client(
        self, dry_run: bool = False, settings: Settings | ConfluenceDcTargetSettings | None = None
    ) -> ConfluenceClient:
        """A client for the connection; page size, retries and max_in_flight from the rules' settings.

        The connection's extra ``max_in_flight`` is a ceiling set for the
        instance: the smaller of it and the rules' value is used.
        """
        confluence = settings.target if isinstance(settings, Settings) else settings
        confluence = confluence or ConfluenceDcTargetSettings()
        conn = self.get_connection(self.confluence_conn_id)
        where = f"Airflow connection {self.confluence_conn_id!r}"
        extra = conn.extra_dejson
        unknown = sorted(set(extra) - EXTRA_KEYS)
        if unknown:
            self.log.warning(
                "%s: ignoring unknown extra keys %s (known: %s)", where, unknown, sorted(EXTRA_KEYS)
            )
        token = extra.get("token") or None
        if token:
            mask_secret(token)
        if conn.password:
            mask_secret(conn.password)
        if not token and not conn.login:
            raise ValueError(f"{where} has no credentials: set login and password, or extra 'token'")
        max_in_flight = confluence.max_in_flight
        if extra.get("max_in_flight") is not None:
            ceiling = positive_int_extra(extra["max_in_flight"], "max_in_flight", where)
            max_in_flight = min(max_in_flight, ceiling)
        return ConfluenceClient(
            base_url_of(conn.host, conn.schema, conn.port, where),
            username=None if token else conn.login,
            password=None if token else conn.password,
            token=token,
            verify=verify_extra(extra.get("verify", True), where),
            timeout=timeout_extra(extra.get("timeout", (10, 60)), where),
            max_in_flight=max_in_flight,
            page_size=confluence.page_size,
            dry_run=dry_run,
            retry=RetryPolicy.from_settings(confluence.retry),
        )

    def site_url(self) -> str:
        """The site's base URL as the connection gives it (what identifies the site)."""
        conn = self.get_connection(self.confluence_conn_id)
        return base_url_of(
            conn.host, conn.schema, conn.port, f"Airflow connection {self.confluence_conn_id!r}"
        )

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's Test button: the credentials are a known user's, and that user can administer users.

        Only reads: a Confluence administrator is a member of one of ``ADMIN_GROUPS``.
        """
        try:
            with self.get_client(dry_run=True) as client:
                username = client.check_auth()
                groups = set(client.groups_of(username))
        except Exception as error:
            return False, str(error)
        admin = [group for group in ADMIN_GROUPS if group in groups]
        if not admin:
            return False, (
                f"authenticated as {username}, who is in neither {' nor '.join(ADMIN_GROUPS)}: the sync "
                "creates and disables users, which needs a Confluence administrator account"
            )
        return True, f"authenticated as {username}, a member of {admin[0]}"
