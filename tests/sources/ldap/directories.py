"""Helpers for the IdP tests: connecting to a sandbox slapd and settings for the example directory."""

from __future__ import annotations

import json
from typing import Any

import ldap3

from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources.ldap.connecting import LdapOptions, open_connection, parse_options
from sandbox.directories.make_example import GROUPS, PEOPLE
from sandbox.openldap import OpenLdapSandbox

# The example directory's people (employees and contractors) and groups; ou=service stays out.
EXAMPLE = LdapSourceSettings(user_base_dn=PEOPLE, group_base_dn=GROUPS, extra_attributes=["departmentNumber"])


def options(
    sandbox: OpenLdapSandbox, *, uri: str | None = None, password: str | None = None, **extra: Any
) -> LdapOptions:
    """Options binding as the sandbox's read-only account (limits apply to it, unlike the root DN)."""
    host, port = (uri or sandbox.uri).split("://")[1].rsplit(":", 1)
    endpoint = sandbox.endpoint
    secret = endpoint.reader_password if password is None else password
    return parse_options("ldap_test", host, int(port), endpoint.reader_dn, secret, extra)


def connect(sandbox: OpenLdapSandbox, **kwargs: Any) -> ldap3.Connection:
    return open_connection(options(sandbox, **kwargs))


def connection_json(sandbox: OpenLdapSandbox, password: str | None = None, **extra: Any) -> str:
    """The sandbox as an AIRFLOW_CONN_* JSON value."""
    opts = options(sandbox, password=password)
    return json.dumps(
        {
            "conn_type": "ldap",
            "host": opts.host,
            "port": opts.port,
            "login": opts.bind_dn,
            "password": opts.password,
            "extra": extra,
        }
    )
