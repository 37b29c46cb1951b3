"""The Airflow hook for an LDAP connection: Airflow connection -> bound ldap3 connection, nothing more.

Connection fields: host, port (389, or 636 with use_ssl), login (the bind DN;
empty binds anonymously), password, and extras ``use_ssl``, ``start_tls``,
``ca_cert`` (a file path or PEM text), ``verify`` (default true),
``connect_timeout``, ``receive_timeout`` (seconds) and ``page_size`` (the
server's page limit). For example::

    AIRFLOW_CONN_LDAP_DEFAULT='{"conn_type": "ldap", "host": "ldap.example.org",
      "login": "cn=reader,dc=example,dc=org", "password": "...",
      "extra": {"start_tls": true, "ca_cert": "/etc/ssl/ldap-ca.pem"}}'

The Task SDK resolves a connection from the environment variable in a running
task, in ``dag.test()`` and in plain Python alike (its environment-variable
secrets backend is always consulted), so the command line and the tests use
the same path as the DAG.
"""

from __future__ import annotations

from functools import cached_property

import ldap3
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from confluence_provisioning.sources.ldap.connecting import LdapOptions, close, open_connection, parse_options
from confluence_provisioning.sources.ldap.errors import IdpReadError


class LdapHook(BaseHook):
    conn_name_attr = "ldap_conn_id"
    default_conn_name = "ldap_default"
    conn_type = "ldap"
    hook_name = "LDAP"

    def __init__(self, ldap_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.ldap_conn_id = ldap_conn_id

    def __repr__(self) -> str:
        return f"LdapHook(ldap_conn_id={self.ldap_conn_id!r})"

    @cached_property
    def options(self) -> LdapOptions:
        """The connection's fields, checked.

        The Airflow Connection itself is not kept: its repr shows the password.
        """
        try:
            conn = self.get_connection(self.ldap_conn_id)
        except AirflowNotFoundException as error:
            variable = f"AIRFLOW_CONN_{self.ldap_conn_id.upper()}"
            raise IdpReadError(
                f"Airflow connection {self.ldap_conn_id!r} is not defined; create it, or set {variable} "
                "to its JSON (see confluence_provisioning.sources.ldap.hook)"
            ) from error
        return parse_options(
            self.ldap_conn_id, conn.host, conn.port, conn.login, conn.password, conn.extra_dejson
        )

    def get_conn(self) -> ldap3.Connection:
        """A new connection, bound; the caller unbinds it (`connecting.close`)."""
        return open_connection(self.options)

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test connection": bind, and say how; the search settings are check-ldap's job."""
        try:
            close(self.get_conn())
        except IdpReadError as error:
            return False, str(error)
        options = self.options
        return True, f"bound to {options.url} as {options.bind_dn or 'anonymous'!r}"
