"""LdapHook: a bound connection from AIRFLOW_CONN_LDAP_DEFAULT given as JSON; the password never shows."""

from __future__ import annotations

import logging

import pytest

from confluence_provisioning.sources.ldap.connecting import LdapOptions, close
from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.hook import LdapHook
from confluence_provisioning.sources.ldap.reading import read_directory
from sandbox.openldap import OpenLdapSandbox
from tests.sources.ldap.directories import EXAMPLE, connection_json


def test_the_hook_binds_with_the_default_connection_from_json(
    ldap_example: OpenLdapSandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    extra = {"receive_timeout": "30", "page_size": 50, "verify": "true"}
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(ldap_example, **extra))
    endpoint = ldap_example.endpoint
    hook = LdapHook()
    assert hook.options == LdapOptions(
        conn_id="ldap_default",
        host="127.0.0.1",
        port=int(ldap_example.uri.rsplit(":", 1)[1]),
        bind_dn=endpoint.reader_dn,
        password=endpoint.reader_password,
        receive_timeout=30,
        page_size=50,
    )
    conn = hook.get_conn()
    try:
        assert conn.bound
        assert conn.extend.standard.who_am_i() == f"dn:{endpoint.reader_dn}"
    finally:
        close(conn)
    shown = [repr(hook), repr(hook.options), str(hook.options), repr(conn), caplog.text]
    assert not [text for text in shown if endpoint.reader_password in text]


def test_read_directory_uses_the_rules_connection_and_its_page_size(
    ldap_example: OpenLdapSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_EXAMPLE", connection_json(ldap_example, page_size=50))
    snapshot = read_directory(EXAMPLE.model_copy(update={"connection_id": "ldap_example"}))
    assert (len(snapshot.users), len(snapshot.groups), len(snapshot.memberships)) == (199, 30, 555)


def test_test_connection_for_the_airflow_ui(
    ldap_example: OpenLdapSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(ldap_example))
    assert LdapHook().test_connection() == (
        True,
        f"bound to {ldap_example.uri} as 'cn=reader,o=sandbox' and read 'dc=example,dc=com'",
    )
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(ldap_example, password="wrong"))
    assert LdapHook().test_connection() == (
        False,
        f"bind to {ldap_example.uri} as 'cn=reader,o=sandbox' failed: invalidCredentials (49); "
        "check the login and password of Airflow connection 'ldap_default'",
    )


def test_a_connection_that_is_not_defined_says_how_to_define_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_LDAP_NOWHERE", raising=False)
    with pytest.raises(IdpReadError) as raised:
        LdapHook("ldap_nowhere").get_conn()
    assert str(raised.value) == (
        "Airflow connection 'ldap_nowhere' is not defined; create it, or set AIRFLOW_CONN_LDAP_NOWHERE "
        "to its JSON (see confluence_provisioning.sources.ldap.hook)"
    )
