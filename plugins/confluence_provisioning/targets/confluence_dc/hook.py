"""Airflow hook: a ConfluenceClient from an Airflow connection, and nothing else.

The connection (default ``confluence_default``, e.g. from
``AIRFLOW_CONN_CONFLUENCE_DEFAULT`` as JSON)::

    {"conn_type": "http", "host": "https://wiki.example.com/confluence", "port": 8443,
     "login": "sync-bot", "password": "...",
     "extra": {"verify": true, "timeout": [10, 60], "max_in_flight": 8}}

``host`` may carry the scheme and Confluence's context path; without a
scheme, ``schema`` names it ("http"/"https", https by default). Basic auth
comes from login/password; a personal access token goes in extra ``token``
(it wins over a login). TLS is verified unless extra ``verify`` is false;
a string ``verify`` is a CA bundle path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.log import mask_secret

from confluence_provisioning.settings import ConfluenceDcTargetSettings, Settings
from confluence_provisioning.targets.confluence_dc.client import ConfluenceClient
from confluence_provisioning.targets.retry import RetryPolicy

EXTRA_KEYS = frozenset({"token", "verify", "timeout", "max_in_flight"})


class ConfluenceHook(HttpHook):
    """Builds ConfluenceClients from the ``confluence_conn_id`` connection."""

    conn_name_attr = "confluence_conn_id"
    default_conn_name = "confluence_default"
    hook_name = "Confluence Data Center"

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
            max_in_flight = min(max_in_flight, _positive_int(extra["max_in_flight"], "max_in_flight", where))
        return ConfluenceClient(
            base_url_of(conn.host, conn.schema, conn.port, where),
            username=None if token else conn.login,
            password=None if token else conn.password,
            token=token,
            verify=_verify(extra.get("verify", True), where),
            timeout=_timeout(extra.get("timeout", (10, 60)), where),
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
        """For the Airflow UI's Test button: are the credentials a known user's?"""
        try:
            with self.get_client() as client:
                return True, f"authenticated as {client.check_auth()}"
        except Exception as error:
            return False, str(error)


def base_url_of(host: str | None, schema: str | None, port: int | None, where: str) -> str:
    """``scheme://host[:port][/context]`` from a connection's host (which may hold scheme and path)."""
    host = (host or "").strip().rstrip("/")
    if not host:
        raise ValueError(
            f"{where} has no host: set it to Confluence's base URL, e.g. https://wiki.example.com"
        )
    if "://" not in host:
        scheme = (schema or "https").lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"{where}: schema must be http or https (the URL scheme), got {schema!r}")
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where}: host {host!r} is not an http(s) URL")
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def _verify(value: Any, where: str) -> bool | str:
    """True/False, or a CA bundle path; "true"/"false" strings (the UI has a text field) are booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        word = value.strip().lower()
        return {"true": True, "false": False}.get(word, value.strip())
    raise ValueError(f"{where}: extra 'verify' must be true, false or a CA bundle path, got {value!r}")


def _timeout(value: Any, where: str) -> tuple[float, float]:
    """A number (both connect and read) or [connect, read], in seconds."""
    values = value if isinstance(value, list | tuple) else [value, value]
    try:
        connect, read = (float(item) for item in values)
    except (TypeError, ValueError):
        connect = read = -1.0
    if connect <= 0 or read <= 0:
        raise ValueError(
            f"{where}: extra 'timeout' must be positive seconds or [connect, read] seconds, got {value!r}"
        )
    return connect, read


def _positive_int(value: Any, name: str, where: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not str(value).isdigit()
        or int(value) < 1
    ):
        raise ValueError(f"{where}: extra {name!r} must be a positive integer, got {value!r}")
    return int(value)
