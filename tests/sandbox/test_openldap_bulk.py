"""The bulk loader's LDIF preparation: memberOf the way the overlay would write it, clear errors."""

from pathlib import Path

import pytest

from sandbox.openldap import SandboxError
from sandbox.openldap.bulk import prepare_bulk_ldif

GROUPS = """\
version: 1

# a group whose member values are spelt unlike the entries' DNs
dn: cn=devs,dc=example,dc=com
objectClass: groupOfNames
cn: devs
member: UID=Ann, DC=Example, DC=Com
member: uid=b\\2Cob,dc=example,dc=com
member: uid=gone,dc=example,dc=com

dn: cn=posix,dc=example,dc=com
objectClass: posixGroup
cn: posix
gidNumber: 1
memberUid: ann
"""

USERS = """\
dn: uid=ann,dc=example,dc=com
objectClass: inetOrgPerson
uid: ann
cn: Ann
sn: A
 nn
memberOf: cn=devs,dc=example,dc=com

# a folded comment
 that goes on
dn:: dWlkPWJcLG9iLGRjPWV4YW1wbGUsZGM9Y29t
objectClass: inetOrgPerson
uid: b,ob
cn: Bob
sn: B
"""


def _prepare(tmp_path: Path, *texts: str) -> str:
    sources = []
    for number, text in enumerate(texts):
        sources.append(tmp_path / f"source{number}.ldif")
        sources[-1].write_text(text, encoding="utf-8")
    prepared = prepare_bulk_ldif(sources, tmp_path / "bulk.ldif")
    assert prepared.entries == sum(text.count("\ndn:") + text.startswith("dn:") for text in texts)
    return prepared.path.read_text(encoding="utf-8")


def test_members_get_memberof_across_files_whatever_the_dn_spelling(tmp_path: Path) -> None:
    entries = _prepare(tmp_path, GROUPS, USERS).split("\n\n")
    ann = next(entry for entry in entries if entry.startswith("dn: uid=ann"))
    bob = next(entry for entry in entries if entry.startswith("dn:: dWlkPWJc"))
    # Ann's LDIF carries memberOf already (a slapcat export): no second copy.
    assert ann.count("memberOf:") == 1
    assert "sn: Ann\n" in ann  # unfolded
    assert bob.endswith("memberOf: cn=devs,dc=example,dc=com")
    assert "version" not in entries[0]
    assert not any("#" in entry for entry in entries)


def test_change_records_are_refused_with_file_and_line(tmp_path: Path) -> None:
    text = USERS + "\ndn: uid=ann,dc=example,dc=com\nchangetype: modify\nreplace: sn\nsn: X\n"
    with pytest.raises(SandboxError, match=r"source0\.ldif:17: change records cannot be bulk-loaded"):
        _prepare(tmp_path, text)


def test_bad_base64_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"source0\.ldif:2: member is not base64"):
        _prepare(tmp_path, "\ndn: cn=g,dc=x\nobjectClass: groupOfNames\nmember:: !!!\n")


def test_an_entry_must_start_with_dn(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"source0\.ldif:1: an LDIF entry must start with 'dn:'"):
        _prepare(tmp_path, "objectClass: top\n")


def test_explain_points_slapadd_lines_back_at_the_sources(tmp_path: Path) -> None:
    (tmp_path / "a.ldif").write_text(GROUPS)
    (tmp_path / "b.ldif").write_text(USERS)
    prepared = prepare_bulk_ldif([tmp_path / "a.ldif", tmp_path / "b.ldif"], tmp_path / "bulk.ldif")
    lines = prepared.path.read_text().splitlines()
    bob_line = next(number for number, text in enumerate(lines, start=1) if text.startswith("dn:: dWlkPWJc"))
    assert (
        prepared.explain(f'dn="x" (line={bob_line})')
        == f'dn="x" (line={bob_line} = {tmp_path / "b.ldif"}:11)'
    )
