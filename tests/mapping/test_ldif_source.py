"""LDIF files read without a server: the records, their errors with file and line, the frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources.ldap.ldif import LdifError, ldif_snapshot, read_ldif
from tests.mapping.idp import rows

SMALL = """\
version: 1
# a comment
#  folded onto a second line

dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: uid=ann,dc=example,dc=com
objectClass: inetOrgPerson
uid: ann
cn: Ann
 e Long
sn: Long
mail: ann@example.com
displayName:: w4lsaXNl
pwdAccountLockedTime: 20250101000000Z

dn: cn=Staff,dc=example,dc=com
objectClass: groupOfNames
cn: Staff
member: uid=ann,dc=example,dc=com
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.ldif"
    path.write_text(text, encoding="utf-8")
    return path


def test_records_with_folded_lines_and_base64_values(tmp_path: Path) -> None:
    entries = read_ldif(write(tmp_path, SMALL))
    assert [(dn, line) for dn, _, line in entries] == [
        ("dc=example,dc=com", 5),
        ("uid=ann,dc=example,dc=com", 11),
        ("cn=Staff,dc=example,dc=com", 21),
    ]
    assert entries[1][1]["cn"] == ["Anne Long"]
    assert entries[1][1]["displayName"] == ["Élise"]


def test_the_frames_come_from_the_idp_extraction(tmp_path: Path) -> None:
    snapshot = ldif_snapshot(write(tmp_path, SMALL), LdapSourceSettings())
    assert rows(snapshot.users, "dn", "login", "email", "display_name", "active") == [
        ("uid=ann,dc=example,dc=com", "ann", "ann@example.com", "Élise", False)
    ]
    assert rows(snapshot.groups, "dn", "name") == [("cn=Staff,dc=example,dc=com", "Staff")]
    assert rows(snapshot.memberships, "group_id", "user_id") == [
        (snapshot.groups["id"][0], snapshot.users["id"][0])
    ]
    # ids the server would make are made up from the DN: the same file gives the same ids
    again = ldif_snapshot(write(tmp_path, SMALL), LdapSourceSettings())
    assert snapshot.users["id"].tolist() == again.users["id"].tolist()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("objectClass: top\n", "{path}:1: an entry must start with 'dn:'; found 'objectClass'"),
        (
            "dn: dc=x\nchangetype: modify\n",
            "{path}:2: change records are not supported; "
            "give an export of the directory (content records only)",
        ),
        ("dn: dc=x\ncn:: %%%\n", "{path}:2: the base64 value of 'cn' does not decode"),
        (
            "dn: dc=x\njpegPhoto:< file:///x.jpg\n",
            "{path}:2: values read from a URL (jpegPhoto:<) are not supported; inline the value",
        ),
        ("dn: dc=x\nno colon here\n", "{path}:2: expected 'attribute: value', found 'no colon here'"),
    ],
)
def test_what_cannot_be_read_is_named_by_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LdifError) as raised:
        read_ldif(path)
    assert str(raised.value) == message.format(path=path)


def test_two_trees_need_base_dns_in_the_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "dn: dc=a\ndc: a\nobjectClass: domain\n\ndn: dc=b\ndc: b\nobjectClass: domain\n")
    with pytest.raises(LdifError) as raised:
        ldif_snapshot(path, LdapSourceSettings())
    assert str(raised.value) == (
        f"{path}: the file has 2 top entries (dc=a, dc=b), so its naming context is unclear; "
        "set directory.user_base_dn and directory.group_base_dn in the rules"
    )
