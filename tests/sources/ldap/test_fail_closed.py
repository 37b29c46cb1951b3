"""Failing closed: every read that is not complete raises IdpReadError naming the cause and the fix.

Against a real slapd: a server-side size limit, a referral, a wrong password, a base DN that
does not exist, a server that dies between two pages, and a directory that looks too small.
"""

from __future__ import annotations

import re
from pathlib import Path

import ldap3
import pytest

from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract
from sandbox.directories.make_example import GROUPS, PEOPLE
from sandbox.openldap import OpenLdapSandbox
from tests.fixtures.ldap import EXAMPLE_LDIF
from tests.sources.ldap.directories import EXAMPLE, connect, options


def read(conn: ldap3.Connection, **settings: object) -> None:
    extract(conn, resolve_profile(EXAMPLE.model_copy(update=settings)))


@pytest.mark.parametrize("page_size", [500, 20], ids=["one-page", "limit-hit-on-a-later-page"])
def test_a_server_size_limit_below_the_directory_size_fails_the_read(ldap_server, page_size: int) -> None:
    # 199 people, limit 50: with pages of 20 the limit arrives on page 3, together with entries.
    sandbox = ldap_server(size_limit=50)
    with pytest.raises(IdpReadError) as raised:
        read(connect(sandbox), page_size=page_size)
    assert str(raised.value) == (
        f"LDAP user search under '{PEOPLE}' failed: sizeLimitExceeded (4); the server's size limit "
        "ended the search; raise the size limit for the bind DN on the server (for paged searches the "
        "limit on the total), or narrow directory.user_base_dn / directory.user_filter. Nothing was read."
    )


def test_a_referral_in_the_searched_tree_fails_the_read(ldap_server, tmp_path: Path) -> None:
    referral = tmp_path / "referral.ldif"
    referral.write_text(
        f"dn: ou=elsewhere,{PEOPLE}\nobjectClass: referral\nobjectClass: extensibleObject\n"
        "ou: elsewhere\nref: ldap://other.example.com/ou=elsewhere,dc=example,dc=com\n",
        encoding="utf-8",
    )
    sandbox = ldap_server([EXAMPLE_LDIF, referral])
    with pytest.raises(IdpReadError) as raised:
        read(connect(sandbox))
    assert str(raised.value) == (
        f"LDAP user search under '{PEOPLE}' failed: continuation references (searchResRef); the server "
        "referred the search elsewhere (ldap://other.example.com/ou=elsewhere,dc=example,dc=com??sub) and "
        "referrals are not followed; set directory.user_base_dn to a naming context this server holds, "
        "or point the connection at that server. Nothing was read."
    )


def test_a_wrong_password_fails_the_bind(ldap_example: OpenLdapSandbox) -> None:
    with pytest.raises(IdpReadError) as raised:
        connect(ldap_example, password="not-the-password")
    assert str(raised.value) == (
        f"bind to {ldap_example.uri} as 'cn=reader,o=sandbox' failed: invalidCredentials (49); "
        "check the login and password of Airflow connection 'ldap_test'"
    )


def test_a_server_that_does_not_answer_fails_the_connect(ldap_server) -> None:
    sandbox = ldap_server()
    unreachable = options(sandbox)
    sandbox.kill()
    with pytest.raises(
        IdpReadError,
        match=r"^cannot connect to ldap://127\.0\.0\.1:\d+: .+; check host, port and "
        r"the use_ssl extra of Airflow connection 'ldap_test'$",
    ):
        connect(sandbox, uri=f"ldap://{unreachable.host}:{unreachable.port}")


@pytest.mark.parametrize(
    ("setting", "what"),
    [("user_base_dn", "user search"), ("group_base_dn", "group search")],
)
def test_a_base_dn_that_does_not_exist_fails_the_read(
    ldap_example: OpenLdapSandbox, setting: str, what: str
) -> None:
    missing = "ou=nowhere,dc=example,dc=com"
    with pytest.raises(IdpReadError) as raised:
        read(connect(ldap_example), **{setting: missing})
    assert str(raised.value) == (
        f"LDAP {what} under '{missing}' failed: noSuchObject (32); the base DN '{missing}' does not exist "
        f"on the server; check directory.{setting}. Nothing was read."
    )


def test_a_server_stopped_between_two_pages_fails_the_read(ldap_server) -> None:
    sandbox = ldap_server()
    conn = connect(sandbox)
    # Let the first page arrive, then kill slapd the way a crash does before the next request.
    search, pages = conn.search, []

    def search_until_the_server_dies(*args: object, **kwargs: object) -> bool:
        pages.append(kwargs.get("paged_cookie"))
        if len(pages) == 2:
            sandbox.kill()
        return search(*args, **kwargs)

    conn.search = search_until_the_server_dies
    with pytest.raises(IdpReadError) as raised:
        read(conn, page_size=50)
    assert len(pages) == 2 and pages[1]  # the second request carried the first page's cookie
    assert re.fullmatch(
        rf"LDAP user search under '{PEOPLE}' failed: lost the connection to 127\.0\.0\.1:\d+ \(.+\); check "
        r"that the server is up, and the receive_timeout extra of the Airflow connection",
        str(raised.value),
    )


def test_fewer_users_than_min_users_fails_the_read(ldap_example: OpenLdapSandbox) -> None:
    with pytest.raises(IdpReadError) as raised:
        read(connect(ldap_example), user_base_dn=f"ou=contractors,{PEOPLE}", min_users=11)
    assert str(raised.value) == (
        f"the user search found 10 usable users under 'ou=contractors,{PEOPLE}', fewer than "
        "directory.min_users (11); an empty or shrunken directory is treated as a failed read: check "
        "directory.user_base_dn and directory.user_filter, or lower directory.min_users if the "
        "directory really is this small"
    )


def test_a_search_that_finds_nothing_is_a_failed_read_by_default(ldap_example: OpenLdapSandbox) -> None:
    with pytest.raises(IdpReadError, match=r"^the user search found 0 usable users under 'ou=groups,"):
        read(connect(ldap_example), user_base_dn=GROUPS)
