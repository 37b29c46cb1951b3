"""The Airflow hook for an LDAP connection: Airflow connection -> bound ldap3 connection, nothing more.

Connection fields: host, port (389, or 636 with use_ssl), login (the bind DN;
empty binds anonymously), password, and extras ``use_ssl``, ``start_tls``,
``ca_cert`` (a file path or PEM text), ``verify`` (default true),
``connect_timeout``, ``receive_timeout`` (seconds), ``page_size`` (the
server's page limit) and ``base_dn`` (the entry the Test button reads; the
sync's bases are in the rules file). For example::

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
from typing import Any, ClassVar

import ldap3
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from confluence_provisioning.sources.ldap import connection_type
from confluence_provisioning.sources.ldap.bases import naming_contexts
from confluence_provisioning.sources.ldap.connecting import LdapOptions, close, open_connection, parse_options
from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.search import Search, base_entry


class LdapHook(BaseHook):
    conn_name_attr = "ldap_conn_id"
    default_conn_name = "ldap_default"
    conn_type = connection_type.CONN_TYPE
    hook_name = connection_type.HOOK_NAME
    # the Admin > Connections form (provider.py hands it to Airflow)
    connection_form: ClassVar[dict[str, Any]] = connection_type.FORM

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
        """Airflow's Test button: bind and read the base entry, what every sync does first.

        The search settings (filters, attributes) are ``check-ldap``'s job: they are in the rules file.
        """
        try:
            conn = self.get_conn()
            try:
                base = self.options.base_dn or naming_contexts(conn, "the base_dn extra")[0]
                base_entry(
                    conn,
                    Search(
                        what="base read",
                        base=base,
                        filter="(objectClass=*)",
                        attributes=("objectClass",),
                        base_setting="the base_dn extra",
                    ),
                )
            finally:
                close(conn)
        except IdpReadError as error:
            return False, str(error)
        options = self.options
        return True, f"bound to {options.url} as {options.bind_dn or 'anonymous'!r} and read {base!r}"
