"""Airflow hook: a ScimClient from the ``atlassian_scim_default`` connection, and nothing else.

The connection (e.g. ``AIRFLOW_CONN_ATLASSIAN_SCIM_DEFAULT`` as JSON; type ``atlassian_scim``,
and connections of type ``http`` made before that type existed work the same)::

    {"conn_type": "atlassian_scim", "host": "https://api.atlassian.com", "password": "<directory API key>",
     "extra": {"directory_id": "2fb21891-...", "verified_domains": ["example.com"]}}

``host`` is the API base URL (default ``https://api.atlassian.com``); the SCIM base is
``{host}/scim/directory/{directory_id}``. The API key is the password or extra ``token``
(sent as Bearer). Extras ``verify``, ``timeout`` and ``max_in_flight`` as for Data Center;
``verified_domains`` (a list, or text separated by commas) are the organization's verified
domains: a user outside them is refused before any request.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.log import mask_secret

from confluence_provisioning.settings import AtlassianCloudTargetSettings
from confluence_provisioning.targets.atlassian_cloud import connection_type
from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.connection_extras import (
    base_url_of,
    positive_int_extra,
    timeout_extra,
    verify_extra,
)
from confluence_provisioning.targets.retry import RetryPolicy

EXTRA_KEYS = frozenset({"directory_id", "token", "verified_domains", "verify", "timeout", "max_in_flight"})


class AtlassianScimHook(HttpHook):
    conn_name_attr = "atlassian_conn_id"
    default_conn_name = "atlassian_scim_default"
    conn_type = connection_type.CONN_TYPE
    hook_name = connection_type.HOOK_NAME
    # the Admin > Connections form (provider.py hands it to Airflow)
    connection_form: ClassVar[dict[str, Any]] = connection_type.FORM

    def __init__(self, atlassian_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=atlassian_conn_id, **kwargs)
        self.atlassian_conn_id = atlassian_conn_id

    def get_client(
        self, dry_run: bool = False, settings: AtlassianCloudTargetSettings | None = None
    ) -> tuple[ScimClient, frozenset[str]]:
        """A client for the connection's directory, and the verified domains it lists (may be empty)."""
        target = settings or AtlassianCloudTargetSettings()
        conn = self.get_connection(self.atlassian_conn_id)
        where = f"Airflow connection {self.atlassian_conn_id!r}"
        extra = conn.extra_dejson
        unknown = sorted(set(extra) - EXTRA_KEYS)
        if unknown:
            self.log.warning(
                "%s: ignoring unknown extra keys %s (known: %s)", where, unknown, sorted(EXTRA_KEYS)
            )
        token = extra.get("token") or conn.password
        if not token:
            raise ValueError(f"{where} has no API key: set it as the password or as extra 'token'")
        mask_secret(token)
        directory_id = str(extra.get("directory_id") or "").strip()
        if not directory_id:
            raise ValueError(f"{where} has no extra 'directory_id': copy it from admin.atlassian.com")
        max_in_flight = target.max_in_flight
        if extra.get("max_in_flight") is not None:
            ceiling = positive_int_extra(extra["max_in_flight"], "max_in_flight", where)
            max_in_flight = min(max_in_flight, ceiling)
        host = base_url_of(conn.host or connection_type.DEFAULT_HOST, conn.schema, conn.port, where)
        client = ScimClient(
            f"{host}/scim/directory/{quote(directory_id, safe='')}",
            token=token,
            verify=verify_extra(extra.get("verify", True), where),
            timeout=timeout_extra(extra.get("timeout", (10, 60)), where),
            max_in_flight=max_in_flight,
            page_size=target.page_size,
            member_batch=target.member_batch,
            dry_run=dry_run,
            retry=RetryPolicy.from_settings(target.retry),
        )
        return client, verified_domains_of(extra.get("verified_domains"), where)

    def site_url(self) -> str:
        """The directory's SCIM base URL, without credentials: what a sync lease is keyed by."""
        conn = self.get_connection(self.atlassian_conn_id)
        where = f"Airflow connection {self.atlassian_conn_id!r}"
        directory_id = str(conn.extra_dejson.get("directory_id") or "").strip()
        host = base_url_of(conn.host or connection_type.DEFAULT_HOST, conn.schema, conn.port, where)
        return f"{host.lower()}/scim/directory/{quote(directory_id, safe='')}"

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's Test button: the key is accepted and reads the directory's users, as the sync does.

        Only reads (``GET /Users?count=1``); writing needs nothing more on Atlassian's side, where a
        directory's API key may do everything in its directory.
        """
        try:
            client, _ = self.get_client(dry_run=True)
            with client:
                users = client.user_count()
        except Exception as error:
            return False, str(error)
        return True, f"read the directory {client.base_url}: {users} users"


def verified_domains_of(value: Any, where: str) -> frozenset[str]:
    if value is None or value == "":
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{where}: extra 'verified_domains' must be a list of domains or text a.com,b.org")
    return frozenset(item.strip().lower() for item in items if item.strip())
