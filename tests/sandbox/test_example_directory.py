"""example.ldif and its README are what make_example.py writes, and slapd serves exactly that."""

from collections import Counter

import ldap3
import pytest

from sandbox.directories import make_example
from sandbox.openldap import OpenLdapSandbox
from sandbox.openldap.dn import canonical_dn

BASE = make_example.SUFFIX


@pytest.fixture(scope="module")
def directory() -> make_example.Directory:
    return make_example.build()


@pytest.fixture(scope="module")
def connection(ldap_example: OpenLdapSandbox) -> ldap3.Connection:
    with ldap3.Connection(
        ldap_example.uri, ldap_example.bind_dn, ldap_example.password, auto_bind=True
    ) as conn:
        yield conn


def _search(connection: ldap3.Connection, base: str, search_filter: str, *attributes: str) -> list[dict]:
    entries = connection.extend.standard.paged_search(
        base, search_filter, attributes=list(attributes), paged_size=50, generator=False
    )
    assert connection.result["description"] == "success"
    return [entry for entry in entries if entry["type"] == "searchResEntry"]


def test_committed_files_are_what_the_script_writes(directory: make_example.Directory) -> None:
    here = make_example.HERE
    assert (here / "example.ldif").read_text(encoding="utf-8") == make_example.render_ldif(directory)
    assert (here / "README.md").read_text(encoding="utf-8") == make_example.render_readme(directory)


def test_the_model_has_no_duplicate_dn(directory: make_example.Directory) -> None:
    dns = [canonical_dn(u.dn) for u in directory.users]
    dns += [canonical_dn(g.dn) for g in directory.groups]
    assert len(dns) == len(set(dns))


def test_user_counts_match_the_model(connection: ldap3.Connection, directory: make_example.Directory) -> None:
    people = _search(connection, f"ou=people,{BASE}", "(objectClass=inetOrgPerson)")
    assert len(people) == sum(u.ou != make_example.SERVICE for u in directory.users)
    service = _search(connection, f"ou=service,{BASE}", "(uid=*)")
    assert len(service) == sum(u.ou == make_example.SERVICE for u in directory.users)
    locked = _search(connection, BASE, "(pwdAccountLockedTime=*)", "uid")
    assert sorted(e["attributes"]["uid"][0] for e in locked) == sorted(
        u.uid for u in directory.users if u.locked
    )


def test_group_classes_and_direct_members_match_the_model(
    connection: ldap3.Connection, directory: make_example.Directory
) -> None:
    served = _search(
        connection,
        f"ou=groups,{BASE}",
        "(objectClass=*)",
        "objectClass",
        "cn",
        "member",
        "uniqueMember",
        "memberUid",
    )
    groups = {e["attributes"]["cn"][0]: e["attributes"] for e in served if e["attributes"]["cn"]}
    assert Counter(g.kind for g in directory.groups) == Counter(
        next(c for c in a["objectClass"] if c != "top") for a in groups.values()
    )
    attribute = {"groupOfNames": "member", "groupOfUniqueNames": "uniqueMember", "posixGroup": "memberUid"}
    for group in directory.groups:
        assert groups[group.cn][attribute[group.kind]] == group.members, group.cn


def test_memberof_lists_the_direct_groupofnames_of_each_user(
    connection: ldap3.Connection, directory: make_example.Directory
) -> None:
    served = {
        canonical_dn(e["dn"]): {canonical_dn(g) for g in e["attributes"]["memberOf"]}
        for e in _search(connection, BASE, "(memberOf=*)", "memberOf")
    }
    expected: dict[str, set[str]] = {}
    entries = {canonical_dn(u.dn) for u in directory.users}
    entries |= {canonical_dn(g.dn) for g in directory.groups}
    for group in directory.groups:
        if group.kind == "groupOfNames":
            for member in map(canonical_dn, group.members):
                if member in entries:
                    expected.setdefault(member, set()).add(canonical_dn(group.dn))
    assert served == expected


def test_nesting_is_three_levels_deep_and_has_a_cycle(directory: make_example.Directory) -> None:
    engineering = make_example.flattened_people(directory, directory.group("engineering"))
    team_web = make_example.flattened_people(directory, directory.group("team-web"))
    assert team_web < engineering
    leadership = make_example.flattened_people(directory, directory.group("leadership"))
    assert leadership == make_example.flattened_people(directory, directory.group("exec-staff"))
    assert len(leadership) == 6


def test_every_hard_case_is_marked_in_the_ldif(directory: make_example.Directory) -> None:
    text = (make_example.HERE / "example.ldif").read_text(encoding="utf-8")
    cases = [u.case for u in directory.users if u.case] + [g.case for g in directory.groups if g.case]
    for case in cases:
        assert f"# HARD CASE: {case}" in text
