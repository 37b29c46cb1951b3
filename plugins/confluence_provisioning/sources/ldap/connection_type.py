"""The LDAP connection type: its name and form.

Free of Airflow imports, so that Airflow's provider discovery (``provider.get_provider_info``)
reads them without importing the hook."""

from __future__ import annotations

from typing import Any

CONN_TYPE = "ldap"
HOOK_NAME = "LDAP"


def _field(label: str, kind: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


FORM: dict[str, Any] = {
    "conn-fields": {
        "base_dn": _field(
            "Base DN",
            "string",
            "The entry Test reads to prove the account can see the directory "
            "(empty: the server's naming context). The sync's bases are in the rules file.",
        ),
        "start_tls": _field("StartTLS", "boolean", "Upgrade a plain connection (port 389) to TLS."),
        "use_ssl": _field("LDAPS", "boolean", "TLS from the start (port 636); not with StartTLS."),
        "ca_cert": _field(
            "CA certificate", "string", "A file path or PEM text of the CA that signed the server's."
        ),
        "verify": _field("Verify TLS", "boolean", "Check the server's certificate.", default=True),
        "connect_timeout": _field("Connect timeout (s)", "number", "Default 10."),
        "receive_timeout": _field("Receive timeout (s)", "number", "Default 60."),
        "page_size": _field("Server page limit", "integer", "When the server's is below the rules'."),
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "extra"],
        "relabeling": {"login": "Bind DN", "password": "Bind password"},
        "placeholders": {
            "host": "ldap.example.org",
            "port": "389 (636 with LDAPS)",
            "login": "cn=confluence-sync,ou=service,dc=example,dc=org",
            "base_dn": "dc=example,dc=org",
            "ca_cert": "/etc/ssl/certs/ldap-ca.pem",
        },
    },
}
