"""A generated 10,000-user directory is read completely, page by page (more than ten pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.search import paged_entries
from confluence_provisioning.sources.ldap.snapshot import extract
from confluence_provisioning.sources.ldap.users import user_searches
from sandbox.openldap import OpenLdapSandbox
from tests.sources.ldap.directories import connect

USERS = 10_000
TEAMS = 40  # groupOfNames of 250 users each, all nested in one "everyone" group
PAGE_SIZE = 500
SUFFIX = "dc=example,dc=com"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"


def write_ldif(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
        )
        for ou in ("people", "groups"):
            out.write(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
        for number in range(USERS):
            locked = "pwdAccountLockedTime: 000001010000Z\n" if number % 100 == 0 else ""
            out.write(
                f"dn: uid=user{number:05},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: user{number:05}\n"
                f"cn: User {number}\nsn: {number}\nmail: user{number:05}@example.com\n{locked}\n"
            )
        per_team = USERS // TEAMS
        for team in range(TEAMS):
            members = "".join(
                f"member: uid=user{number:05},{PEOPLE}\n"
                for number in range(team * per_team, (team + 1) * per_team)
            )
            out.write(
                f"dn: cn=team{team:02},{GROUPS}\nobjectClass: groupOfNames\ncn: team{team:02}\n{members}\n"
            )
        teams = "".join(f"member: cn=team{team:02},{GROUPS}\n" for team in range(TEAMS))
        out.write(f"dn: cn=everyone,{GROUPS}\nobjectClass: groupOfNames\ncn: everyone\n{teams}\n")


@pytest.mark.slow
def test_ten_thousand_users_are_read_completely_over_many_pages(ldap_server, tmp_path: Path) -> None:
    ldif = tmp_path / "large.ldif"
    write_ldif(ldif)
    # slapd limits an ordinary account to 500 entries unless told otherwise.
    sandbox: OpenLdapSandbox = ldap_server([ldif], suffix=SUFFIX, size_limit=2 * USERS)
    profile = resolve_profile(
        LdapSourceSettings(user_base_dn=PEOPLE, group_base_dn=GROUPS, page_size=PAGE_SIZE)
    )
    conn = connect(sandbox)
    try:
        pages = [len(page) for page in paged_entries(conn, user_searches(profile, [PEOPLE])[0], PAGE_SIZE)]
        snapshot = extract(conn, profile)
    finally:
        conn.unbind()
    assert pages == [PAGE_SIZE] * (USERS // PAGE_SIZE)
    assert len(snapshot.users) == USERS
    assert snapshot.users["login"].is_unique and snapshot.users["id"].is_unique
    assert int((~snapshot.users["active"]).sum()) == USERS // 100
    assert len(snapshot.groups) == TEAMS + 1
    memberships = snapshot.memberships
    assert int(memberships["direct"].sum()) == USERS  # each user directly in one team
    everyone = snapshot.groups.loc[snapshot.groups["name"] == "everyone", "id"].item()
    inherited = memberships[memberships["group_id"] == everyone]
    assert len(inherited) == USERS and not inherited["direct"].any()
    assert snapshot.rejects.empty
