"""``preview`` on the sandbox directory with default.yaml: the Confluence users, groups and rejects it shows.

Expected users and memberships come from the model the LDIF was written from
(``make_example.build``) and Confluence's naming rules, not from the mapping.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from confluence_provisioning.cli import main
from sandbox.directories.make_example import CONTRACTORS, PEOPLE, build, flattened_people
from tests.sources.ldap.directories import connection_json

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "include" / "mapping_rules" / "default.yaml"
LDIF = ROOT / "sandbox" / "directories" / "example.ldif"
MODEL = build()
FORBIDDEN = set("\\,+<>'\"")


def accepted_users() -> dict[str, tuple[str, str, str, str]]:
    """DN -> (username, display name, email, active) of the people Confluence can take, one each."""
    people = [user for user in MODEL.users if user.ou in (PEOPLE, CONTRACTORS)]
    nameable = [
        user
        for user in people
        if user.mail and not FORBIDDEN & set(user.uid) and not any(char.isspace() for char in user.uid)
    ]
    usernames = [user.uid.lower() for user in nameable]
    emails = [user.mail.lower() for user in nameable]
    return {
        user.dn: (
            user.uid.lower(),
            user.display or user.cn,
            user.mail.lower(),
            "yes" if user.locked is None else "no",
        )
        for user in nameable
        if usernames.count(user.uid.lower()) == 1 and emails.count(user.mail.lower()) == 1
    }


def preview(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["preview", "--rules", str(RULES), *extra]) == 0
    return capsys.readouterr().out


def section(text: str, title: str) -> list[str]:
    """The lines under the heading that starts with ``title``, up to the blank line."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(title))
    end = next((n for n in range(start + 1, len(lines)) if not lines[n]), len(lines))
    return lines[start:end]


GROUPS_TABLE = """\
Confluence groups (26):
  name              members  prune           rule
  all-staff         178      adds only       on-the-fly from 'all-staff'
  confluence-users  187      adds only       default group for all users
  contractors       9        adds only       on-the-fly from 'contractors'
  customer-success  10       adds only       on-the-fly from 'customer-success'
  design            10       adds only       on-the-fly from 'design'
  developers        12       adds only       on-the-fly from 'developers'
  eng-data          15       adds only       on-the-fly from 'eng-data'
  eng-platform      19       adds only       on-the-fly from 'eng-platform'
  eng-product       29       adds only       on-the-fly from 'eng-product'
  engineering       73       removes others  manual mapping from 'engineering'
  finance           12       adds only       on-the-fly from 'finance'
  hr                8        adds only       on-the-fly from 'hr'
  it-ops            8        adds only       on-the-fly from 'it-ops'
  leadership        6        adds only       manual mapping from 'exec-staff'
  legal             5        adds only       on-the-fly from 'legal'
  marketing         15       adds only       on-the-fly from 'marketing'
  new-hires         0        adds only       on-the-fly from 'new-hires'
  office berlin     7        adds only       on-the-fly from 'Office Berlin'
  project-apollo    2        adds only       on-the-fly from 'project-apollo'
  sales             24       adds only       on-the-fly from 'sales'
  support           19       adds only       on-the-fly from 'support'
  team-mobile       13       adds only       on-the-fly from 'team-mobile'
  team-sre          8        adds only       on-the-fly from 'team-sre'
  team-web          16       adds only       on-the-fly from 'team-web'
  wiki-editors      4        adds only       on-the-fly from 'wiki-editors'
  équipe paris      4        adds only       on-the-fly from 'Équipe Paris'"""

MAPPING_REJECTS = """\
  mapping group cn=Confluence-Administrators,ou=groups,dc=example,dc=com: it maps onto \
'confluence-administrators', a protected group (protected.groups), which a sync never changes
  mapping user uid=JSmith,ou=people,dc=example,dc=com: left out: its username 'jsmith' is also the \
username of 'uid=jsmith,ou=contractors,ou=people,dc=example,dc=com'; nobody is merged
  mapping user uid=\\"tbrown\\",ou=people,dc=example,dc=com: left out: its username '"tbrown"' contains \
a forbidden character ("), which Confluence does not allow
  mapping user uid=\\<script\\>,ou=people,dc=example,dc=com: left out: its username '<script>' contains \
forbidden characters (< >), which Confluence does not allow
  mapping user uid=alice\\+admin,ou=people,dc=example,dc=com: left out: its username 'alice+admin' \
contains a forbidden character (+), which Confluence does not allow
  mapping user uid=corp\\\\bwilson,ou=people,dc=example,dc=com: left out: its username 'corp\\bwilson' \
contains a forbidden character (\\), which Confluence does not allow
  mapping user uid=jdoe,ou=people,dc=example,dc=com: left out: its email 'john.doe@example.com' is also \
the email of 'uid=jdoe-adm,ou=people,dc=example,dc=com'; nobody is merged
  mapping user uid=jdoe-adm,ou=people,dc=example,dc=com: left out: its email 'john.doe@example.com' is \
also the email of 'uid=jdoe,ou=people,dc=example,dc=com'; nobody is merged
  mapping user uid=jsmith,ou=contractors,ou=people,dc=example,dc=com: left out: its username 'jsmith' is \
also the username of 'uid=JSmith,ou=people,dc=example,dc=com'; nobody is merged
  mapping user uid=kwalker,ou=people,dc=example,dc=com: left out: it has no email address, and Confluence \
requires one
  mapping user uid=mary jane,ou=people,dc=example,dc=com: left out: its username 'mary jane' contains \
whitespace, which Confluence does not allow
  mapping user uid=o'neil,ou=people,dc=example,dc=com: left out: its username 'o'neil' contains a \
forbidden character ('), which Confluence does not allow
  mapping user uid=smith\\,anna,ou=people,dc=example,dc=com: left out: its username 'smith,anna' \
contains a forbidden character (,), which Confluence does not allow"""


def test_preview_of_the_sandbox_directory_with_the_default_rules(capsys: pytest.CaptureFixture[str]) -> None:
    text = preview(capsys, "--ldif", str(LDIF))
    assert text.splitlines()[0] == f"Read 202 users, 30 groups and 557 memberships from {LDIF}."

    users = section(text, "Confluence users")
    assert users[0] == "Confluence users (187, 4 disabled):"
    assert re.split(r"\s{2,}", users[1].strip()) == ["username", "display_name", "email", "active", "rule"]
    shown = sorted(tuple(re.split(r"\s{2,}", line.strip())) for line in users[2:])
    expected = sorted((*user, "all users") for user in accepted_users().values())
    assert shown == expected
    assert (
        "tnguyen",
        "Thanh Nguyen",
        "thanh.nguyen@example.com",
        "yes",
        "all users",
    ) in shown  # cn for displayName
    assert ("zoë", "Zoë Adams", "zoe.adams@example.com", "yes", "all users") in shown

    assert "\n".join(section(text, "Confluence groups")) == GROUPS_TABLE

    left_out = section(text, "Left out")
    assert left_out[0] == "Left out (19):"
    assert [line.split(" ")[2:4] for line in left_out[1:7]] == [["idp", "group"]] + [
        ["idp", "membership"]
    ] * 5
    assert "\n".join(left_out[7:]) == MAPPING_REJECTS


def memberships(text: str) -> dict[str, set[str]]:
    """Group -> usernames from the memberships section (wrapped lines joined)."""
    lines = section(text, "Group memberships")[1:]
    joined: list[str] = []
    for line in lines:
        if line.startswith("    "):
            joined[-1] += " " + line.strip()
        else:
            joined.append(line.strip())
    return {group: set(names.split(", ")) for group, names in (entry.split(": ", 1) for entry in joined)}


def test_preview_memberships_are_the_directory_groups_of_the_accepted_users(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = memberships(preview(capsys, "--ldif", str(LDIF)))
    accepted = accepted_users()
    by_uid = {user.uid: user.dn for user in MODEL.users}

    def members(*cns: str) -> set[str]:
        found: set[str] = set()
        for cn in cns:
            group = MODEL.group(cn)
            dns = (
                {by_uid[uid] for uid in group.members if uid in by_uid}
                if group.kind == "posixGroup"
                else flattened_people(MODEL, group)
            )
            found |= {accepted[dn][0] for dn in dns if dn in accepted}
        return found

    assert shown.pop("confluence-users") == {user[0] for user in accepted.values()}
    assert shown.pop("engineering") == members("engineering", "qa")
    assert shown.pop("leadership") == members("leadership", "exec-staff")
    for group in MODEL.groups:
        name = group.cn.lower()
        if name not in (
            "engineering",
            "qa",
            "leadership",
            "exec-staff",
            "docker",
            "printer-users",
            "confluence-administrators",
        ) and members(group.cn):
            assert shown.pop(name) == members(group.cn), name
    assert shown == {}


def test_preview_reads_a_real_directory_as_it_reads_the_ldif(
    capsys: pytest.CaptureFixture[str], ldap_example, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(ldap_example))
    from_ldap = preview(capsys)
    from_ldif = preview(capsys, "--ldif", str(LDIF))
    assert (
        from_ldap.splitlines()[0]
        == "Read 202 users, 30 groups and 557 memberships from LDAP connection 'ldap_default'."
    )

    def body(text: str) -> str:  # users, groups and memberships; rejects name DNs as each source spells them
        return text[text.index("Confluence users") : text.index("Left out")]

    assert body(from_ldap) == body(from_ldif)


def test_preview_reports_an_unreadable_ldif(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.ldif"
    broken.write_text("dn: dc=example,dc=com\nobjectClass: top\n\nchangetype: add\n", encoding="utf-8")
    assert main(["preview", "--rules", str(RULES), "--ldif", str(broken)]) == 1
    assert capsys.readouterr().err == (
        f"preview: the directory cannot be read: {broken}:4: an entry must start with 'dn:'; "
        "found 'changetype'\n"
    )


def test_preview_refuses_a_wrong_rules_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("users:\n  scope: all\n", encoding="utf-8")
    assert main(["preview", "--rules", str(rules), "--ldif", str(LDIF)]) == 2
    assert capsys.readouterr().err == (
        "preview: the rules file cannot be used:\n"
        f"{rules}:2: users.scope: unknown key 'scope'; remove it; valid keys here: operations, out_of_scope, "
        "include, exclude, username, display_name, email\n"
    )
