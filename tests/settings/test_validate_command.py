"""``confluence-provisioning validate FILE``: a summary of a valid file, every mistake of a wrong one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from confluence_provisioning.cli import main

DEFAULT = Path(__file__).resolve().parents[2] / "include" / "mapping_rules" / "default.yaml"


def test_a_valid_file_gets_a_summary_of_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEFAULT)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{DEFAULT}: valid",
        "Directory   openldap via connection 'ldap_default'; users under dc=example,dc=com, "
        "groups under ou=groups,dc=example,dc=com",
        "            nested groups on; extra attributes: departmentNumber",
        "Users       in scope: every user, except subtree ou=service,dc=example,dc=com",
        "            operations: create, update, disable, re-enable; users out of scope are disabled",
        "            username = login, lower-cased",
        "            display name = display_name (blank: the username)",
        "            email = email, lower-cased",
        "Groups      default for all users: confluence-users; for new users only: none",
        "            manual: engineering <- engineering, qa (removes other members)",
        "            manual: leadership <- leadership, exec-staff (keeps other members)",
        "            on-the-fly: every other IdP group, not '^(docker|printer-users)$', lower-cased; "
        "rewrites: none",
        "            on-the-fly groups: created when missing; members only added",
        "Protected   users: admin, svc-confluence-sync; "
        "groups: confluence-administrators, system-administrators",
        "Limits      at most 50 users (5.0%) disabled or deleted, 500 membership removals, "
        "0 group deletions; groups may not be emptied",
        "Confluence  connection 'confluence_default', 8 requests in flight, new users get a random password",
    ]
    assert len(out.splitlines()) <= 24  # one screen


def test_a_wrong_file_gets_every_mistake_and_exit_status_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        textwrap.dedent(
            """\
            users:
              operation:
                delete: true
            groups:
              on_the_fly:
                enabled: true
                rewrites:
                  - pattern: '^team-(.*)$'
                    replace: '\\2-team'
            """
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(rules)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{rules}:2: users.operation: unknown key 'operation'; did you mean 'operations'?",
        f"{rules}:9: groups.on_the_fly.rewrites[0].replace: replacement '\\2-team' refers to group 2, but "
        "pattern '^team-(.*)$' has 1 group(s); use \\1 to \\9 or \\g<name> for a captured group and \\\\ for "
        "a backslash",
        f"{rules}: 2 mistakes",
    ]


def test_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: cannot be read: No such file or directory\n"


def test_ldap_filters_with_broken_syntax_are_mistakes_with_their_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        textwrap.dedent(
            """\
            source:
              kind: ldap
              user_base_dn: ou=people,dc=example,dc=com
              user_filter: (&(objectClass=person)(uid=*)
              group_filter: objectClass=group
            """
        ),
        encoding="utf-8",
    )
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text('directory:\n  user_filter: "(employeeType=staff)(uid>=a*)"\n', encoding="utf-8")
    example = "; an LDAP filter looks like (&(objectClass=person)(uid=*))"

    assert main(["validate", str(rules)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{rules}:4: source.user_filter: '(&(objectClass=person)(uid=*)' is not a valid LDAP filter: "
        f"the '(' at character 1 has no matching ')'{example}",
        f"{rules}:5: source.group_filter: 'objectClass=group' is not a valid LDAP filter: "
        f"'(' expected at character 1{example}",
        f"{rules}: 2 mistakes",
    ]
    assert main(["validate", str(legacy)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{legacy}:2: directory.user_filter: '(employeeType=staff)(uid>=a*)' is not a valid LDAP filter: "
        "text after the end of the filter at character 21 (to combine filters, wrap them in (&...) or (|...))"
        f"{example}",
        f"{legacy}: 1 mistake",
    ]
