"""The neutral test-directory model: example.ldif loads as make_example built it; change records apply."""

import pytest

from sandbox.directories import make_example
from sandbox.directories.model import Change, DirectoryModel, LdifError
from sandbox.openldap.dn import canonical_dn

BASE = make_example.SUFFIX
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"


@pytest.fixture(scope="module")
def built() -> make_example.Directory:
    return make_example.build()


@pytest.fixture()
def model() -> DirectoryModel:
    return DirectoryModel.from_ldif(make_example.EXAMPLE_LDIF)


def _id(model: DirectoryModel, dn: str) -> str:
    entry = model.entry(dn)
    assert entry is not None, dn
    return entry.id


def _logins(model: DirectoryModel, ids) -> set[str]:
    return {model.users[i].login for i in ids}


def test_users_groups_and_disabled_accounts_are_those_make_example_wrote(
    model: DirectoryModel, built: make_example.Directory
) -> None:
    assert sorted(canonical_dn(u.dn) for u in model.users.values()) == sorted(
        canonical_dn(u.dn) for u in built.users
    )
    assert sorted(g.name for g in model.groups.values()) == sorted(g.cn for g in built.groups)
    assert sorted(u.login for u in model.users.values() if u.disabled) == sorted(
        u.uid for u in built.users if u.locked
    )
    assert model.entry(f"uid=kwalker,{PEOPLE}").first("mail") is None
    assert model.entry(f"uid=bwayne,{PEOPLE}").login == "bwayne"  # the RDN, not the second uid
    assert model.entry(f"uid=zoë,{PEOPLE}").login == "zoë"
    assert model.entry(f"uid=corp\\5Cbwilson,{PEOPLE}").login == "corp\\bwilson"


def test_direct_members_resolve_dns_parsed_and_member_uids_by_exact_uid(
    model: DirectoryModel, built: make_example.Directory
) -> None:
    user_dns = {canonical_dn(u.dn) for u in built.users}
    group_dns = {canonical_dn(g.dn) for g in built.groups}
    by_uid = {u.uid for u in built.users}
    for group in built.groups:
        members = model.direct_members(_id(model, group.dn))
        if group.kind == "posixGroup":
            assert _logins(model, members.user_ids) == {m for m in group.members if m in by_uid}
            assert set(members.unresolved) == {m for m in group.members if m not in by_uid}
            continue
        people = {canonical_dn(m) for m in group.members if canonical_dn(m) in user_dns}
        assert {canonical_dn(model.users[i].dn) for i in members.user_ids} == people, group.cn
        assert {canonical_dn(model.groups[i].dn) for i in members.group_ids} == {
            canonical_dn(m) for m in group.members if canonical_dn(m) in group_dns
        }
        assert members.unresolved == tuple(
            m for m in group.members if canonical_dn(m) not in user_dns | group_dns
        )


def test_transitive_members_follow_nesting_and_cycles(
    model: DirectoryModel, built: make_example.Directory
) -> None:
    for group in built.groups:
        if group.kind == "posixGroup":
            continue
        expected = {canonical_dn(dn) for dn in make_example.flattened_people(built, group)}
        found = {canonical_dn(model.users[i].dn) for i in model.transitive_user_ids(_id(model, group.dn))}
        assert found == expected, group.cn
    assert len(model.transitive_user_ids(_id(model, f"cn=leadership,{GROUPS}"))) == 6


def test_ids_are_stable_across_loads_and_kept_by_a_rename(model: DirectoryModel) -> None:
    again = DirectoryModel.from_ldif(make_example.EXAMPLE_LDIF.read_text(encoding="utf-8"))
    assert set(again.users) == set(model.users) and set(again.groups) == set(model.groups)
    ckim = _id(model, f"uid=ckim,{PEOPLE}")
    changes = model.apply_ldif(
        f"dn: uid=ckim,{PEOPLE}\nchangetype: modrdn\nnewrdn: uid=ckim2\ndeleteoldrdn: 1\n"
    )
    docker = _id(model, f"cn=docker,{GROUPS}")
    assert changes == [
        Change("modrdn", "user", ckim, f"uid=ckim2,{PEOPLE}", ("uid",)),
        Change("modify", "group", docker, f"cn=docker,{GROUPS}", ("memberuid",), (), (ckim,)),
    ]
    assert model.entry(f"uid=ckim2,{PEOPLE}").id == ckim and model.entry(f"uid=ckim,{PEOPLE}") is None
    assert model.users[ckim].values("uid") == ["ckim2"]
    # refint: team-sre still has the member; docker's memberUid 'ckim' now names nobody
    assert ckim in model.direct_members(_id(model, f"cn=team-sre,{GROUPS}")).user_ids
    assert "ckim" in model.direct_members(_id(model, f"cn=docker,{GROUPS}")).unresolved


def test_a_hire_a_leaver_a_group_move_and_a_removed_nested_group_report_what_changed(
    model: DirectoryModel,
) -> None:
    sre, platform, data = (_id(model, f"cn={cn},{GROUPS}") for cn in ("team-sre", "eng-platform", "eng-data"))
    mford = _id(model, f"uid=mford,{PEOPLE}")
    staff = _id(model, f"cn=all-staff,{GROUPS}")
    changes = model.apply_ldif(
        f"""# hire
dn: uid=nhire,{PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: nhire
cn: New Hire
sn: Hire
mail: new.hire@example.com

dn: cn=team-sre,{GROUPS}
changetype: modify
add: member
member: uid=nhire,{PEOPLE}
-
delete: member
member: UID=MFord, OU=People, DC=Example, DC=Com
-

dn: cn=eng-data,{GROUPS}
changetype: modify
add: member
member: uid=mford,{PEOPLE}
-

dn: cn=eng-platform,{GROUPS}
changetype: modify
delete: member
member: cn=team-sre,{GROUPS}
-

dn: uid=epark,{PEOPLE}
changetype: delete

dn: uid=ckim,{PEOPLE}
changetype: modify
replace: displayName
displayName: Colin K. Kim
-
add: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
-
"""
    )
    hire = _id(model, f"uid=nhire,{PEOPLE}")
    epark = next(c.id for c in changes if c.op == "delete")
    ckim = _id(model, f"uid=ckim,{PEOPLE}")
    assert changes == [
        Change("add", "user", hire, f"uid=nhire,{PEOPLE}"),
        Change("modify", "group", sre, f"cn=team-sre,{GROUPS}", ("member",), (hire,), (epark, mford)),
        Change("modify", "group", data, f"cn=eng-data,{GROUPS}", ("member",), (mford,), ()),
        Change("modify", "group", platform, f"cn=eng-platform,{GROUPS}", ("member",), (), (sre,)),
        Change("delete", "user", epark, f"uid=epark,{PEOPLE}"),
        Change("modify", "user", ckim, f"uid=ckim,{PEOPLE}", ("displayname", "pwdaccountlockedtime")),
        # refint side effects, reported on the groups that had the leaver
        Change("modify", "group", staff, f"cn=all-staff,{GROUPS}", ("member",), (), (epark,)),
        Change(
            "modify",
            "group",
            _id(model, f"cn=docker,{GROUPS}"),
            f"cn=docker,{GROUPS}",
            ("memberuid",),
            (),
            (epark,),
        ),
    ]
    assert model.users[ckim].disabled and model.users[ckim].first("displayName") == "Colin K. Kim"
    assert epark not in model.users
    assert mford not in model.transitive_user_ids(platform)


def test_a_failing_change_set_changes_nothing_and_names_the_line(model: DirectoryModel) -> None:
    before = model.to_ldif()
    with pytest.raises(LdifError) as raised:
        model.apply_ldif(
            f"dn: uid=ckim,{PEOPLE}\nchangetype: delete\n\ndn: uid=nobody,{PEOPLE}\nchangetype: delete\n",
            name="changes.ldif",
        )
    assert str(raised.value) == (f"changes.ldif:4: no entry 'uid=nobody,{PEOPLE}' to delete; add it first")
    assert model.to_ldif() == before
    with pytest.raises(LdifError, match=r"^changes.ldif:2: unknown changetype 'rename'"):
        model.apply_ldif(f"dn: uid=ckim,{PEOPLE}\nchangetype: rename\n", name="changes.ldif")
    with pytest.raises(LdifError, match=r"^x.ldif:1: a change record in a directory file"):
        DirectoryModel.from_ldif(f"dn: uid=a,{BASE}\nchangetype: delete\n", name="x.ldif")


def test_a_member_naming_no_entry_resolves_when_the_entry_is_added(model: DirectoryModel) -> None:
    sales = _id(model, f"cn=sales,{GROUPS}")
    [added, grown] = model.apply_ldif(
        f"dn: uid=former.employee,{PEOPLE}\n"
        "objectClass: inetOrgPerson\nuid: former.employee\ncn: F E\nsn: E\n"
    )
    assert model.direct_members(sales).unresolved == ()
    assert grown == Change("modify", "group", sales, f"cn=sales,{GROUPS}", ("member",), (added.id,), ())


def test_a_deleted_dn_added_again_gets_a_fresh_id(model: DirectoryModel) -> None:
    old = _id(model, f"uid=ckim,{PEOPLE}")
    model.apply_ldif(f"dn: uid=ckim,{PEOPLE}\nchangetype: delete\n")
    model.apply_ldif(f"dn: uid=ckim,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: ckim\ncn: C\nsn: K\n")
    assert _id(model, f"uid=ckim,{PEOPLE}") != old


def test_to_ldif_reads_back_to_the_same_directory(model: DirectoryModel) -> None:
    again = DirectoryModel.from_ldif(model.to_ldif())
    assert {i: u.attributes for i, u in again.users.items()} == {
        i: u.attributes for i, u in model.users.items()
    }
    for group_id, group in model.groups.items():
        assert again.direct_members(group_id) == model.direct_members(group_id), group.name
