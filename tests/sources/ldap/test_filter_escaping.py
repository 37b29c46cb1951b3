"""Values placed in filters are escaped (RFC 4515): a login with * ( ) \\ or NUL matches only itself."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.lookup import find_users, login_filter
from sandbox.directories.make_example import PEOPLE
from sandbox.openldap import OpenLdapSandbox
from tests.fixtures.ldap import EXAMPLE_LDIF
from tests.sources.ldap.directories import EXAMPLE, connect

# Each tricky login next to the entries an unescaped filter would also match (or break on).
LOGINS = [
    "ann*",
    "anna",
    "annabel",
    "x)(uid=*",
    "back\\slash",
    "back",
    "nul\x00byte",
    "nul",
    "(paren)",
    "all*(of)\\them\x00",
]


@pytest.fixture(scope="module")
def tricky_directory(tmp_path_factory: pytest.TempPathFactory) -> OpenLdapSandbox:
    entries = [
        f"dn: employeeNumber={number},{PEOPLE}\nobjectClass: inetOrgPerson\nemployeeNumber: {number}\n"
        f"uid:: {base64.b64encode(login.encode()).decode()}\ncn: tricky {number}\nsn: tricky\n"
        for number, login in enumerate(LOGINS)
    ]
    ldif = Path(tmp_path_factory.mktemp("tricky")) / "tricky.ldif"
    ldif.write_text("\n".join(entries), encoding="utf-8")
    with OpenLdapSandbox([EXAMPLE_LDIF, ldif]) as sandbox:
        yield sandbox


def test_the_login_filter_escapes_every_special_character() -> None:
    assert login_filter(resolve_profile(EXAMPLE), "all*(of)\\them\x00") == (
        "(&(objectClass=inetOrgPerson)(uid=all\\2a\\28of\\29\\5cthem\\00))"
    )


@pytest.mark.parametrize("login", LOGINS, ids=repr)
def test_a_tricky_login_finds_only_its_own_entry(tricky_directory: OpenLdapSandbox, login: str) -> None:
    conn = connect(tricky_directory)
    try:
        found = find_users(conn, resolve_profile(EXAMPLE), login)
    finally:
        conn.unbind()
    assert found.users["login"].tolist() == [login]
    assert found.users["dn"].tolist() == [f"employeeNumber={LOGINS.index(login)},{PEOPLE}"]
    assert found.rejects.empty
