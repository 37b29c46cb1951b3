"""The Airflow hook for an Okta connection: Airflow connection -> `OktaClient`, nothing more.

Connection fields (default id `okta_default`): host = the org URL (`https://example.okta.com`;
`https://` when no scheme is given), password = an API token (sent as `Authorization: SSWS ...`);
or, for an OAuth 2.0 service app, extras `client_id`, `private_key` (PEM text, or the path of a PEM
file), optional `key_id` and `scopes` (default `okta.users.read okta.groups.read`). A `client_id`
wins over a password. Other extras: `verify` (true, false or a CA bundle path), `timeout`
(seconds, or `[connect, read]`), `max_in_flight` (a ceiling on concurrent requests). For example::

    AIRFLOW_CONN_OKTA_DEFAULT='{"conn_type": "http", "host": "https://example.okta.com",
      "password": "00abc..."}'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.sdk.log import mask_secret

from confluence_provisioning.settings.sources import OktaSourceSettings
from confluence_provisioning.sources.okta import connection_type
from confluence_provisioning.sources.okta.auth import DEFAULT_SCOPES, ApiToken, Credentials, ServiceApp
from confluence_provisioning.sources.okta.client import OktaClient
from confluence_provisioning.sources.okta.errors import OktaReadError
from confluence_provisioning.targets.retry import RetryPolicy

EXTRA_KEYS = frozenset({"client_id", "private_key", "key_id", "scopes", "verify", "timeout", "max_in_flight"})


@dataclass(frozen=True)
class OktaOptions:
    org_url: str
    credentials: Credentials = field(repr=False)
    verify: bool | str = True
    timeout: tuple[float, float] = (10.0, 60.0)
    max_in_flight: int | None = None


class OktaHook(BaseHook):
    conn_name_attr = "okta_conn_id"
    default_conn_name = "okta_default"
    conn_type = connection_type.CONN_TYPE
    hook_name = connection_type.HOOK_NAME
    connection_form: ClassVar[dict[str, Any]] = connection_type.FORM

    def __init__(self, okta_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.okta_conn_id = okta_conn_id

    def __repr__(self) -> str:
        return f"OktaHook(okta_conn_id={self.okta_conn_id!r})"

    def options(self) -> OktaOptions:
        """The connection's fields, checked (the Connection itself is not kept: its repr shows secrets)."""
        try:
            conn = self.get_connection(self.okta_conn_id)
        except AirflowNotFoundException as error:
            raise OktaReadError(
                f"Airflow connection {self.okta_conn_id!r} is not defined; create it, or set "
                f"AIRFLOW_CONN_{self.okta_conn_id.upper()} to its JSON "
                "(see confluence_provisioning.sources.okta.hook)"
            ) from error
        return parse_options(self.okta_conn_id, conn.host, conn.schema, conn.password, conn.extra_dejson)

    def get_client(self, settings: OktaSourceSettings) -> OktaClient:
        options = self.options()
        ceiling = options.max_in_flight or settings.max_in_flight
        return OktaClient(
            options.org_url,
            options.credentials,
            verify=options.verify,
            timeout=options.timeout,
            max_in_flight=min(ceiling, settings.max_in_flight),
            policy=RetryPolicy(max_attempts=settings.max_attempts, budget_seconds=settings.budget_seconds),
        )

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test connection": authenticate and read one user and one group, as the sync does."""
        try:
            settings = OktaSourceSettings()
            with self.get_client(settings) as client:
                for path in ("/api/v1/users?limit=1", "/api/v1/groups?limit=1"):
                    client.get(path)
        except OktaReadError as error:
            return False, str(error)
        return True, f"read users and groups of {self.options().org_url}"


def parse_options(
    conn_id: str, host: str | None, schema: str | None, password: str | None, extra: dict[str, Any]
) -> OktaOptions:
    where = f"Airflow connection {conn_id!r}"
    extra = {key: value for key, value in extra.items() if value not in (None, "")}  # empty form fields
    unknown = sorted(set(extra) - EXTRA_KEYS)
    if unknown:
        raise OktaReadError(f"{where}: unknown extra keys {unknown} (known: {sorted(EXTRA_KEYS)})")
    if not host:
        raise OktaReadError(f"{where}: host must be the Okta org URL, e.g. https://example.okta.com")
    org_url = host if "://" in host else f"{schema or 'https'}://{host}"
    parts = urlsplit(org_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OktaReadError(f"{where}: host {host!r} is not an http(s) URL")
    org_url = f"{parts.scheme}://{parts.netloc}"
    verify = extra.get("verify", True)
    if not isinstance(verify, bool | str):
        raise OktaReadError(f"{where}: extra verify must be true, false or a CA bundle path")
    timeout = _timeout(where, extra.get("timeout", (10.0, 60.0)))
    max_in_flight = extra.get("max_in_flight")
    if max_in_flight is not None and (not isinstance(max_in_flight, int) or max_in_flight < 1):
        raise OktaReadError(f"{where}: extra max_in_flight must be a whole number of at least 1")
    credentials: Credentials
    if extra.get("client_id"):
        private_key = str(extra.get("private_key") or "")
        if not private_key:
            raise OktaReadError(f"{where}: a service app (extra client_id) needs extra private_key (PEM)")
        if "-----BEGIN" not in private_key:
            try:
                private_key = Path(private_key).read_text(encoding="utf-8")
            except OSError as error:
                raise OktaReadError(f"{where}: cannot read the private key file: {error.strerror}") from None
        mask_secret(private_key)
        scopes = extra.get("scopes", DEFAULT_SCOPES)
        scopes = tuple(scopes.split() if isinstance(scopes, str) else scopes)
        credentials = ServiceApp(
            f"{org_url}/oauth2/v1/token",
            str(extra["client_id"]),
            private_key,
            key_id=extra.get("key_id"),
            scopes=scopes,
            verify=verify,
            timeout=timeout,
        )
    elif password:
        mask_secret(password)
        credentials = ApiToken(password)
    else:
        raise OktaReadError(
            f"{where}: give an API token as the password, "
            "or a service app as extras client_id and private_key"
        )
    return OktaOptions(org_url, credentials, verify, timeout, max_in_flight)


def _timeout(where: str, value: Any) -> tuple[float, float]:
    try:
        if isinstance(value, int | float):
            return float(value), float(value)
        connect, read = value
        return float(connect), float(read)
    except (TypeError, ValueError):
        raise OktaReadError(f"{where}: extra timeout must be seconds or [connect, read]") from None
