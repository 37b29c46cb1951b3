"""The example directory (sandbox/directories) read by a real slapd gives exactly the expected frames.

Expected values come from the model the LDIF was written from (`make_example.build`),
never from the extractor. entryUUIDs change on every load, so rows are compared by
DN (as LDAP compares DNs) and ids only for being consistent across the frames.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from confluence_provisioning import frames
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.mapping.dn import dn_key
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract
from sandbox.directories.make_example import (
    CONTRACTORS,
    GROUPS,
    PEOPLE,
    ROOT_DN,
    SERVICE,
    SUFFIX,
    Directory,
    build,
    flattened_people,
)
from tests.sources.ldap.directories import EXAMPLE, connect

MODEL = build()
IN_SCOPE = [user for user in MODEL.users if user.ou in (PEOPLE, CONTRACTORS)]


@pytest.fixture(scope="module")
def snapshot(ldap_example) -> SourceSnapshot:
    conn = connect(ldap_example)
    try:
        return extract(conn, resolve_profile(EXAMPLE))
    finally:
        conn.unbind()


def by_dn(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    """Rows without ids, keyed and sorted by DN key, so DN spelling (\\2C or \\,) does not matter."""
    keyed = frames.conform(frame.assign(id="", dn=frame["dn"].map(dn_key)), schema)
    return keyed.sort_values("dn").reset_index(drop=True)


def test_users_are_every_person_under_people_with_their_attributes(snapshot: SourceSnapshot) -> None:
    expected = frames.from_records(
        (
            {
                "id": "",
                "dn": user.dn,
                "login": user.uid,  # bwayne also has uid batman: the RDN value wins
                "email": user.mail,
                "display_name": user.display or user.cn,  # tnguyen has no displayName: cn
                "active": user.locked is None,
                "attr.departmentnumber": user.department,
            }
            for user in IN_SCOPE
        ),
        frames.USERS,
    )
    users = snapshot.users
    assert list(users.columns) == [*frames.USERS, "attr.departmentnumber"]
    assert users.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(by_dn(users, frames.USERS), by_dn(expected, frames.USERS))
    assert users["id"].map(lambda value: str(uuid.UUID(value)) == value).all()
    assert users["id"].is_unique
    assert sorted(users.loc[~users["active"], "login"]) == ["dhughes", "epark", "fmeyer", "zscott"]
    # Both JSmith (employee) and jsmith (contractor) are kept: the mapping judges the collision.
    assert sorted(users.loc[users["login"].str.lower() == "jsmith", "login"]) == ["JSmith", "jsmith"]


def test_groups_are_every_group_of_every_kind(snapshot: SourceSnapshot) -> None:
    expected = frames.from_records(
        ({"id": "", "dn": g.dn, "name": g.cn} for g in MODEL.groups), frames.GROUPS
    )
    pd.testing.assert_frame_equal(by_dn(snapshot.groups, frames.GROUPS), by_dn(expected, frames.GROUPS))
    assert snapshot.groups["id"].is_unique


def expected_memberships(directory: Directory) -> set[tuple[str, str, bool]]:
    """(group DN key, user DN key, direct) computed from the model, independently of the extractor."""
    in_scope = {dn_key(user.dn): user for user in IN_SCOPE}
    rows: set[tuple[str, str, bool]] = set()
    for group in directory.groups:
        if group.kind == "posixGroup":
            for user in IN_SCOPE:
                if user.uid in group.members:  # memberUid matches a login exactly, case included
                    rows.add((dn_key(group.dn), dn_key(user.dn), True))
            continue
        direct = {dn_key(member) for member in group.members} & set(in_scope)
        for user_dn in flattened_people(directory, group):
            key = dn_key(user_dn)
            if key in in_scope:
                rows.add((dn_key(group.dn), key, key in direct))
    return rows


def test_memberships_are_flattened_through_nesting_and_the_cycle(snapshot: SourceSnapshot) -> None:
    group_dn = dict(zip(snapshot.groups["id"], snapshot.groups["dn"].map(dn_key), strict=True))
    user_dn = dict(zip(snapshot.users["id"], snapshot.users["dn"].map(dn_key), strict=True))
    memberships = snapshot.memberships
    actual = list(
        zip(
            memberships["group_id"].map(group_dn),
            memberships["user_id"].map(user_dn),
            memberships["direct"],
            strict=True,
        )
    )
    assert len(actual) == len(set(actual)), "a membership appears twice"
    assert set(actual) == expected_memberships(MODEL)
    assert memberships.dtypes.to_dict() == frames.empty(frames.MEMBERSHIPS).dtypes.to_dict()

    def members(cn: str, direct: bool | None = None) -> int:
        rows = memberships[memberships["group_id"].map(group_dn) == dn_key(f"cn={cn},{GROUPS}")]
        return len(rows) if direct is None else int((rows["direct"] == direct).sum())

    # The README's "flattened" column, and the direct members of groups with only subgroups.
    assert (members("engineering"), members("engineering", direct=True)) == (65, 1)
    assert (members("eng-product"), members("eng-product", direct=True)) == (31, 0)
    assert (members("leadership"), members("exec-staff")) == (6, 6)
    assert (members("new-hires"), members("printer-users")) == (0, 0)
    assert members("wiki-editors") == 5  # one member DN in other case and spacing
    assert members("project-apollo") == 9  # member DNs with \ , + < > " and non-ASCII


def test_rejects_name_each_left_out_member_and_the_cycle(snapshot: SourceSnapshot) -> None:
    group_id = dict(zip(snapshot.groups["dn"].map(dn_key), snapshot.groups["id"], strict=True))

    def member(group: str, value: str) -> dict[str, str]:
        return {
            "kind": "membership",
            "dn": f"cn={group},{GROUPS}",
            "reason": f"member left out: member {value!r} names no user or group that was read (it is "
            "outside directory.user_base_dn/user_filter and group_base_dn/group_filter, or missing)",
        }

    def member_uid(group: str, login: str) -> dict[str, str]:
        return {
            "kind": "membership",
            "dn": f"cn={group},{GROUPS}",
            "reason": f"member left out: memberUid {login!r} is the login of no user that was read",
        }

    leadership, exec_staff = f"cn=leadership,{GROUPS}", f"cn=exec-staff,{GROUPS}"
    rows = [
        member("sales", f"uid=former.employee,{PEOPLE}"),
        member("it-ops", f"uid=svc-backup,{SERVICE}"),
        member("Confluence-Administrators", f"uid=svc-confluence-sync,{SERVICE}"),
        member("Confluence-Administrators", ROOT_DN),
        member("new-hires", f"cn=nobody,{SUFFIX}"),
        member_uid("developers", "ghost"),
        member_uid("docker", "svc-jenkins"),
        {
            "kind": "group",
            "dn": leadership,
            "reason": f"nested groups form a cycle ({leadership} -> {exec_staff} -> {leadership}); "
            "their members are flattened once, fix the nesting in the directory",
        },
    ]
    expected = frames.from_records(
        ({"source": "idp", **row, "id": group_id[dn_key(row["dn"])]} for row in rows), frames.REJECTS
    )
    pd.testing.assert_frame_equal(snapshot.rejects, expected)
