"""Search bases: the configured base DN, or else the server's naming contexts (root DSE)."""

from __future__ import annotations

from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources.ldap.bases import search_bases
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract
from sandbox.openldap import OpenLdapSandbox
from tests.sources.ldap.directories import connect


def test_without_a_base_dn_every_naming_context_is_searched(ldap_example: OpenLdapSandbox) -> None:
    conn = connect(ldap_example)
    try:
        assert search_bases(conn, None, None, "directory.user_base_dn") == ["dc=example,dc=com", "o=sandbox"]
        assert search_bases(conn, None, "cn=users,cn=accounts", "directory.user_base_dn") == [
            "cn=users,cn=accounts,dc=example,dc=com",
            "cn=users,cn=accounts,o=sandbox",
        ]
        assert search_bases(conn, "ou=people,dc=example,dc=com", None, "x") == ["ou=people,dc=example,dc=com"]
        snapshot = extract(conn, resolve_profile(LdapSourceSettings()))
    finally:
        conn.unbind()
    # The whole tree: 199 people plus the three service accounts that are inetOrgPerson.
    assert (len(snapshot.users), len(snapshot.groups)) == (202, 30)
    assert sorted(
        snapshot.users.loc[snapshot.users["dn"].str.endswith("ou=service,dc=example,dc=com"), "login"]
    ) == [
        "svc-backup",
        "svc-confluence-sync",
        "svc-monitoring",
    ]
