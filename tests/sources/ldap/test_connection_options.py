"""parse_options: the fields and extras of an Airflow LDAP connection, checked; each mistake named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from confluence_provisioning.sources.ldap.connecting import LdapOptions, parse_options
from confluence_provisioning.sources.ldap.errors import IdpReadError


def parse(host: str | None = "ldap.example.org", port: int | None = None, **extra: Any) -> LdapOptions:
    return parse_options("ldap_default", host, port, "cn=reader,dc=example,dc=org", "s3cret-pw", extra)


def test_defaults_verify_tls_and_pick_the_port_from_use_ssl() -> None:
    plain = parse()
    assert (plain.url, plain.verify, plain.connect_timeout, plain.receive_timeout, plain.page_size) == (
        "ldap://ldap.example.org:389",
        True,
        10.0,
        60,
        None,
    )
    assert parse(use_ssl=True).url == "ldaps://ldap.example.org:636"
    assert parse(port=3389, start_tls="TRUE").port == 3389


def test_the_password_is_never_in_the_repr() -> None:
    assert "s3cret-pw" not in repr(parse())
    assert parse().password == "s3cret-pw"


def test_an_anonymous_connection_has_no_bind_dn() -> None:
    options = parse_options("anon", "ldap.example.org", None, "", "", {})
    assert (options.bind_dn, options.password) == (None, None)


def test_ca_cert_may_be_a_file_or_pem_text(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n...\n", encoding="ascii")
    assert parse(ca_cert=str(ca)).ca_cert == str(ca)
    assert parse(ca_cert=ca.read_text()).ca_cert == ca.read_text()


WHERE = "Airflow connection 'ldap_default', extra: "


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"verfy": False},
            WHERE
            + "unknown keys ['verfy']; the known keys are ['use_ssl', 'start_tls', 'ca_cert', 'verify', "
            "'connect_timeout', 'receive_timeout', 'page_size', 'base_dn']",
        ),
        (
            {"use_ssl": True, "start_tls": True},
            WHERE
            + "use_ssl and start_tls are both on; use_ssl is LDAPS (port 636), start_tls upgrades a plain "
            "connection (port 389): choose one",
        ),
        ({"verify": "maybe"}, WHERE + "verify is 'maybe'; give true or false"),
        ({"receive_timeout": 0}, WHERE + "receive_timeout is 0; give a positive number"),
        ({"connect_timeout": "soon"}, WHERE + "connect_timeout is 'soon'; give a positive number"),
        ({"page_size": 1001}, WHERE + "page_size 1001 is not a whole number from 1 to 1000"),
        ({"page_size": 2.5}, WHERE + "page_size 2.5 is not a whole number from 1 to 1000"),
        ({"page_size": True}, WHERE + "page_size is True; give a positive number"),
        (
            {"ca_cert": "/nowhere/ca.pem"},
            WHERE + "ca_cert '/nowhere/ca.pem' is neither PEM text nor a readable file",
        ),
    ],
)
def test_a_wrong_extra_is_named_with_its_fix(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(IdpReadError) as raised:
        parse(**extra)
    assert str(raised.value) == message


def test_a_missing_host_is_named() -> None:
    with pytest.raises(IdpReadError) as raised:
        parse(host="")
    assert (
        str(raised.value)
        == "Airflow connection 'ldap_default', host: empty; give the LDAP server's host name"
    )
