"""Connection fields -> a bound ldap3 connection (TLS verified by default), or a clear `IdpReadError`.

Kept apart from the Airflow hook so that it is plain Python: the hook only
fetches the Airflow connection and hands its fields over.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException

from confluence_provisioning.sources.ldap.errors import IdpReadError

MAX_PAGE_SIZE = 1000
EXTRAS = (
    "use_ssl",
    "start_tls",
    "ca_cert",
    "verify",
    "connect_timeout",
    "receive_timeout",
    "page_size",
    "base_dn",
)


# How the extraction expects an ldap3 connection to behave (tests build mock connections with it too).
READING: dict[str, bool] = {
    "read_only": True,
    "raise_exceptions": False,  # every result code is checked where it arrives
    "auto_referrals": False,  # a referral is a read we did not finish, never a silent detour
    "auto_range": False,  # ranged values are fetched by ranges.py, which checks each step
    "return_empty_attributes": False,
}


@dataclass(frozen=True)
class LdapOptions:
    """The fields of one Airflow LDAP connection, checked. The password never shows in a repr."""

    conn_id: str
    host: str
    port: int
    bind_dn: str | None
    password: str | None = field(repr=False)
    use_ssl: bool = False
    start_tls: bool = False
    ca_cert: str | None = None  # a file path or PEM text
    verify: bool = True
    connect_timeout: float = 10.0
    receive_timeout: int = 60  # whole seconds: ldap3 packs it into SO_RCVTIMEO as an integer
    page_size: int | None = None  # the server's page limit, when it is below the rules' page size
    base_dn: str | None = None  # what the connection test reads; the sync's bases are the rules'

    @property
    def url(self) -> str:
        return f"{'ldaps' if self.use_ssl else 'ldap'}://{self.host}:{self.port}"


class _Connection(ldap3.Connection):
    """An ldap3 connection whose repr hides the password (ldap3's own repr shows it)."""

    def __repr__(self) -> str:
        return self.repr_with_sensitive_data_stripped()


def parse_options(
    conn_id: str,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    extra: Mapping[str, Any],
) -> LdapOptions:
    """The connection's fields as `LdapOptions`; a wrong field raises naming it and the fix."""

    def where(name: str) -> str:
        return f"Airflow connection {conn_id!r}, {name}"

    # the connection form saves fields left empty as null or ""
    extra = {name: value for name, value in extra.items() if value is not None and value != ""}
    unknown = sorted(set(extra) - set(EXTRAS))
    if unknown:
        raise IdpReadError(f"{where('extra')}: unknown keys {unknown}; the known keys are {list(EXTRAS)}")
    if not host:
        raise IdpReadError(f"{where('host')}: empty; give the LDAP server's host name")
    use_ssl = _flag(extra, "use_ssl", False, where)
    start_tls = _flag(extra, "start_tls", False, where)
    if use_ssl and start_tls:
        raise IdpReadError(
            f"{where('extra')}: use_ssl and start_tls are both on; use_ssl is LDAPS (port 636), "
            "start_tls upgrades a plain connection (port 389): choose one"
        )
    page_size = _positive(extra, "page_size", where)
    if page_size is not None and not (page_size.is_integer() and page_size <= MAX_PAGE_SIZE):
        raise IdpReadError(
            f"{where('extra')}: page_size {page_size:g} is not a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    ca_cert = extra.get("ca_cert") or None
    if ca_cert is not None and not _is_pem(ca_cert) and not Path(ca_cert).is_file():
        raise IdpReadError(f"{where('extra')}: ca_cert {ca_cert!r} is neither PEM text nor a readable file")
    return LdapOptions(
        conn_id=conn_id,
        host=host,
        port=port or (636 if use_ssl else 389),
        bind_dn=login or None,
        password=password or None,
        use_ssl=use_ssl,
        start_tls=start_tls,
        ca_cert=ca_cert,
        verify=_flag(extra, "verify", True, where),
        connect_timeout=_positive(extra, "connect_timeout", where) or 10.0,
        receive_timeout=math.ceil(_positive(extra, "receive_timeout", where) or 60),
        page_size=None if page_size is None else int(page_size),
        base_dn=extra.get("base_dn") or None,
    )


def open_connection(options: LdapOptions) -> ldap3.Connection:
    """A connection bound as the options say, ready for searches; raises `IdpReadError` on any failure."""
    server = ldap3.Server(
        options.host,
        port=options.port,
        use_ssl=options.use_ssl,
        tls=_tls(options) if options.use_ssl or options.start_tls else None,
        get_info=ldap3.NONE,  # the schema is not needed, and reading it costs a round trip
        connect_timeout=options.connect_timeout,
    )
    connection = _Connection(
        server,
        user=options.bind_dn,
        password=options.password,
        authentication=ldap3.SIMPLE if options.bind_dn else ldap3.ANONYMOUS,
        receive_timeout=options.receive_timeout,
        **READING,
    )
    fields = f"check host, port and the use_ssl extra of Airflow connection {options.conn_id!r}"
    try:
        connection.open()
    except LDAPException as error:
        close(connection)
        tls = "ssl" in str(error).lower() or "certificate" in str(error).lower()
        raise IdpReadError(
            f"cannot connect to {options.url}: {error}; {_tls_fix(options) if tls else fields}"
        ) from error
    try:
        if options.start_tls and not connection.start_tls():
            raise IdpReadError(
                f"StartTLS with {options.url} was refused: {_result(connection)}; {_tls_fix(options)}"
            )
        if not connection.bind():
            raise IdpReadError(
                f"bind to {options.url} as {options.bind_dn or 'anonymous'!r} failed: {_result(connection)}; "
                f"check the login and password of Airflow connection {options.conn_id!r}"
            )
    except LDAPException as error:
        close(connection)
        if isinstance(error, TimeoutError):  # connected, but the server never answered
            raise IdpReadError(
                f"no answer from the LDAP server within {options.receive_timeout} s: {options.url} accepted "
                "the connection but did not answer; check that the server is healthy, or raise the "
                f"receive_timeout extra of Airflow connection {options.conn_id!r}"
            ) from error
        tls = "ssl" in str(error).lower() or "certificate" in str(error).lower()
        raise IdpReadError(
            f"cannot connect to {options.url}: {error}; {_tls_fix(options) if tls else fields}"
        ) from error
    except IdpReadError:
        close(connection)
        raise
    return connection


def close(connection: ldap3.Connection) -> None:
    """Unbind; a connection that is already broken has nothing left to unbind."""
    with contextlib.suppress(LDAPException, OSError):
        connection.unbind()


def _tls(options: LdapOptions) -> ldap3.Tls:
    ca = options.ca_cert
    return ldap3.Tls(
        validate=ssl.CERT_REQUIRED if options.verify else ssl.CERT_NONE,
        ca_certs_data=ca if ca and _is_pem(ca) else None,
        ca_certs_file=ca if ca and not _is_pem(ca) else None,
        sni=options.host,
    )


def _tls_fix(options: LdapOptions) -> str:
    return (
        f"check the ca_cert and verify extras of Airflow connection {options.conn_id!r} "
        "(ca_cert must be the CA that signed the server's certificate, whose name must match host)"
    )


def _result(connection: ldap3.Connection) -> str:
    result = connection.result or {}
    message = f" ({result['message']})" if result.get("message") else ""
    return f"{result.get('description', 'no answer')} ({result.get('result', '?')}){message}"


def _is_pem(value: str) -> bool:
    return value.lstrip().startswith("-----BEGIN")


def _flag(extra: Mapping[str, Any], name: str, default: bool, where: Callable[[str], str]) -> bool:
    value = extra.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise IdpReadError(f"{where('extra')}: {name} is {value!r}; give true or false")


def _positive(extra: Mapping[str, Any], name: str, where: Callable[[str], str]) -> float | None:
    value = extra.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if isinstance(value, bool) or not number > 0:
        raise IdpReadError(f"{where('extra')}: {name} is {value!r}; give a positive number")
    return number
