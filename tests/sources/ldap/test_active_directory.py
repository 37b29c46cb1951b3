"""Active Directory paths, on an AD-shaped directory in ldap3's MOCK_SYNC strategy.

A real Active Directory cannot run here, so these tests use ldap3's in-memory mock
server filled with AD-shaped entries: binary ``objectGUID`` and ``objectSid``,
``userAccountControl`` flags, ``primaryGroupID`` and ``objectCategory``. The mock
does not slice large attributes the way AD does (MaxValRange), so the
``ad_directory`` fixture teaches it to: a ``member`` with more than
``MAX_VALUES`` values comes back as ``member;range=0-2`` and the rest must be
asked for as ``member;range=3-*``, exactly as AD answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import ldap3
import pandas as pd
import pytest

from confluence_provisioning import frames
from confluence_provisioning.settings import Flavour, LdapSourceSettings
from confluence_provisioning.sources.ldap.connecting import READING
from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract

DOMAIN = "DC=corp,DC=example"
STAFF = f"OU=Staff,{DOMAIN}"
GROUPS = f"OU=Groups,{DOMAIN}"
MAX_VALUES = 3  # AD's MaxValRange is 1500; three keeps the fixture small
# S-1-5-21-101-202-303: revision 1, 4 sub-authorities, authority 5 (NT)
DOMAIN_SID = bytes([1, 4, 0, 0, 0, 0, 0, 5]) + b"".join(n.to_bytes(4, "little") for n in (21, 101, 202, 303))
SETTINGS = LdapSourceSettings(flavour=Flavour.active_directory, user_base_dn=STAFF, group_base_dn=GROUPS)


def guid(number: int) -> uuid.UUID:
    return uuid.UUID(int=number)


def sid(rid: int) -> bytes:
    """A domain SID with one more sub-authority, the relative id: revision 1, 5 sub-authorities."""
    return bytes([1, 5]) + DOMAIN_SID[2:] + rid.to_bytes(4, "little")


def user(number: int, login: str, *, control: int = 512, primary_group: int = 513) -> dict[str, Any]:
    return {
        "objectClass": ["top", "person", "organizationalPerson", "user"],
        "objectCategory": "person",
        "objectGUID": guid(number).bytes_le,
        "sAMAccountName": login,
        "displayName": login.title(),
        "mail": f"{login}@corp.example",
        "userAccountControl": str(control),
        "primaryGroupID": str(primary_group),
    }


def group(number: int, name: str, rid: int, members: list[str]) -> dict[str, Any]:
    entry = {
        "objectClass": ["top", "group"],
        "objectGUID": guid(number).bytes_le,
        "cn": name,
        "objectSid": sid(rid),
    }
    return {**entry, "member": members} if members else entry


BIG = [f"big{number}" for number in range(1, 8)]
USERS = {
    f"CN=Alice,{STAFF}": user(1, "alice"),
    f"CN=Bob,{STAFF}": user(2, "bob", control=514),  # 512 NORMAL_ACCOUNT + 2 ACCOUNTDISABLE
    f"CN=Carol,{STAFF}": user(3, "carol", control=66048, primary_group=1105),  # + DONT_EXPIRE_PASSWORD
    f"CN=Dave,{STAFF}": user(4, "dave"),
    **{f"CN={login},{STAFF}": user(10 + n, login) for n, login in enumerate(BIG)},
}
FOREIGN = f"CN=S-1-5-21-9-9-9-1001,CN=ForeignSecurityPrincipals,{DOMAIN}"
GROUP_ENTRIES = {
    # Primary-group members are never listed in `member`.
    f"CN=Domain Users,{GROUPS}": group(100, "Domain Users", 513, []),
    f"CN=Engineering,{GROUPS}": group(
        101, "Engineering", 1105, [f"CN=Alice,{STAFF}", f"CN=Platform,{GROUPS}", FOREIGN]
    ),
    f"CN=Platform,{GROUPS}": group(102, "Platform", 1106, [f"CN=Dave,{STAFF}"]),
    f"CN=Big,{GROUPS}": group(103, "Big", 1107, [f"CN={login},{STAFF}" for login in BIG]),
}
OTHERS = {
    # A computer is objectClass user too; objectCategory keeps it out of the user search.
    f"CN=WS01,{STAFF}": {**user(50, "WS01$"), "objectCategory": "computer"},
    f"CN=Broken,{STAFF}": {**user(51, "broken"), "objectGUID": b"\x01\x02\x03"},
}


def serve_ranges(conn: ldap3.Connection, attribute: str = "member") -> None:
    """Answer like AD: at most MAX_VALUES values of ``attribute``, named by range."""
    execute = conn.strategy._execute_search

    def execute_in_ranges(request: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        low = 0
        names = []
        for name in map(str, request["attributes"]):
            kind, _, asked = name.partition(";range=")
            if kind.lower() == attribute.lower():
                low, name = int(asked.split("-")[0] or 0) if asked else 0, attribute
            names.append(name)
        responses, result = execute({**request, "attributes": names})
        for response in responses:
            for value in response["attributes"]:
                values = value["vals"]
                if value["type"].lower() != attribute.lower() or (low == 0 and len(values) <= MAX_VALUES):
                    continue
                high = "*" if low + MAX_VALUES >= len(values) else str(low + MAX_VALUES - 1)
                value["type"], value["vals"] = (
                    f"{attribute};range={low}-{high}",
                    values[low : low + MAX_VALUES],
                )
        return responses, result

    conn.strategy._execute_search = execute_in_ranges


@pytest.fixture
def ad_directory() -> Iterator[ldap3.Connection]:
    server = ldap3.Server("dc01.corp.example", get_info=ldap3.NONE)
    reader = f"CN=reader,{DOMAIN}"
    conn = ldap3.Connection(server, reader, "secret", client_strategy=ldap3.MOCK_SYNC, **READING)
    conn.strategy.add_entry(reader, {"objectClass": ["top", "user"], "userPassword": "secret"})
    for dn, attributes in {**USERS, **GROUP_ENTRIES, **OTHERS}.items():
        assert conn.strategy.add_entry(dn, attributes), dn
    serve_ranges(conn)
    assert conn.bind()
    yield conn
    conn.unbind()


def test_users_have_guid_ids_and_user_account_control_states(ad_directory: ldap3.Connection) -> None:
    snapshot = extract(ad_directory, resolve_profile(SETTINGS))
    rows = [
        {
            "id": str(guid(number)),
            "dn": f"CN={cn},{STAFF}",
            "login": login,
            "email": f"{login}@corp.example",
            "display_name": login.title(),
            "active": login != "bob",
        }
        for number, cn, login in [
            (1, "Alice", "alice"),
            (2, "Bob", "bob"),
            (3, "Carol", "carol"),
            (4, "Dave", "dave"),
            *((10 + n, login, login) for n, login in enumerate(BIG)),
        ]
    ]
    # The mock returns entries in no fixed order; a real directory's order does not matter either.
    users = snapshot.users.sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(users, frames.from_records(rows, frames.USERS))
    assert str(guid(1)) == "00000000-0000-0000-0000-000000000001"  # bytes_le read back as the same GUID


def test_memberships_include_primary_groups_nesting_and_every_range(ad_directory: ldap3.Connection) -> None:
    snapshot = extract(ad_directory, resolve_profile(SETTINGS))
    group_names = dict(zip(snapshot.groups["id"], snapshot.groups["name"], strict=True))
    logins = dict(zip(snapshot.users["id"], snapshot.users["login"], strict=True))
    actual = sorted(
        zip(
            snapshot.memberships["group_id"].map(group_names),
            snapshot.memberships["user_id"].map(logins),
            snapshot.memberships["direct"],
            strict=True,
        )
    )
    expected = sorted(
        [
            *(("Domain Users", login, True) for login in ["alice", "bob", "dave", *BIG]),
            ("Engineering", "alice", True),
            ("Engineering", "carol", True),  # primaryGroupID 1105 is Engineering's RID
            ("Engineering", "dave", False),  # through Platform
            ("Platform", "dave", True),
            *(("Big", login, True) for login in BIG),  # 7 values read in ranges 0-2, 3-5, 6-*
        ]
    )
    assert actual == expected
    assert sorted(snapshot.groups["id"]) == [str(guid(n)) for n in (100, 101, 102, 103)]


def test_unusable_entries_and_foreign_members_are_rejected(ad_directory: ldap3.Connection) -> None:
    snapshot = extract(ad_directory, resolve_profile(SETTINGS))
    expected = frames.from_records(
        [
            {
                "source": "idp",
                "kind": "user",
                "dn": f"CN=Broken,{STAFF}",
                "id": None,
                "reason": "user left out: its id attribute objectGUID has an unreadable value "
                "b'\\x01\\x02\\x03'",
            },
            {
                "source": "idp",
                "kind": "membership",
                "dn": f"CN=Engineering,{GROUPS}",
                "id": str(guid(101)),
                "reason": f"member left out: member {FOREIGN!r} names no user or group that was read (it is "
                "outside directory.user_base_dn/user_filter and group_base_dn/group_filter, or missing)",
            },
        ],
        frames.REJECTS,
    )
    pd.testing.assert_frame_equal(snapshot.rejects, expected)


def test_a_range_that_stops_early_fails_the_read(ad_directory: ldap3.Connection) -> None:
    execute = ad_directory.strategy._execute_search

    def forget_the_rest(request: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        responses, result = execute(request)
        if request["scope"] == 0:  # the follow-up read of the next range: the group changed meanwhile
            for response in responses:
                response["attributes"] = []
        return responses, result

    ad_directory.strategy._execute_search = forget_the_rest
    with pytest.raises(IdpReadError) as raised:
        extract(ad_directory, resolve_profile(SETTINGS))
    assert str(raised.value) == (
        f"LDAP ranged read of member of group 'CN=Big,{GROUPS}' stopped after 3 values without a last "
        "range; the group may have changed during the read. Nothing was read."
    )


def test_range_reads_between_pages_do_not_end_the_paging(ad_directory: ldap3.Connection) -> None:
    # One group a page: the ranged reads of Big happen between two pages of the group search.
    snapshot = extract(ad_directory, resolve_profile(SETTINGS.model_copy(update={"page_size": 1})))
    assert sorted(snapshot.groups["name"]) == ["Big", "Domain Users", "Engineering", "Platform"]
    assert len(snapshot.users) == 11
