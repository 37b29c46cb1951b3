"""Loading a rules file: typed settings, or every mistake at once with its line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from confluence_provisioning.settings import Flavour, OutOfScopeAction, Settings, load_settings
from tests.settings.rules_files import load, mistakes

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "include" / "mapping_rules").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_rules_file_is_valid(path: Path) -> None:
    assert isinstance(load_settings(path), Settings)


def test_the_examples_are_there() -> None:
    assert {path.name for path in EXAMPLES} >= {
        "default.yaml",
        "manual-mapping.yaml",
        "on-the-fly-regex.yaml",
    }


def test_an_empty_file_is_every_default(tmp_path: Path) -> None:
    assert load(tmp_path, "# nothing yet\n") == Settings()


def test_values_are_typed(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        directory:
          flavour: active_directory
        users:
          out_of_scope: keep
          include:
            groups: [staff]
        limits:
          max_users_disabled_or_deleted_percent: 10
        """,
    )
    assert settings.source.flavour is Flavour.active_directory
    assert settings.users.out_of_scope is OutOfScopeAction.keep
    assert settings.users.include is not None and settings.users.include.groups == ["staff"]
    assert settings.limits.max_users_disabled_or_deleted_percent == 10.0


def test_five_different_mistakes_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    assert mistakes(
        tmp_path,
        """\
        directory:
          flavor: openldap
        users:
          operations:
            delete: false
          out_of_scope: delete
          include:
            groups: [staff]
          exclude:
            groups: [Staff]
        groups:
          on_the_fly:
            enabled: yes
            exclude: ['(?<!x)tmp']
        limits:
          max_membership_removals: lots
        """,
    ) == [
        "rules.yaml:2: directory.flavor: unknown key 'flavor'; did you mean 'flavour'?",
        "rules.yaml:6: users.out_of_scope: 'delete' needs users.operations.delete: true, which is false; "
        "set users.operations.delete: true, or choose another out_of_scope (disable, keep)",
        "rules.yaml:10: users.exclude.groups[0]: 'Staff' is both included (users.include.groups) and "
        "excluded; remove it from one of the two lists",
        "rules.yaml:14: groups.on_the_fly.exclude[0]: pattern '(?<!x)tmp' does not compile: invalid perl "
        "operator: (?<!; write an RE2 regular expression (Python syntax without look-around such as (?=...) "
        "and without back-references such as \\1 inside the pattern)",
        "rules.yaml:16: limits.max_membership_removals: input should be a valid integer, not 'lots'; "
        "write a whole number, e.g. 500",
    ]


def test_an_unknown_key_without_a_close_match_lists_the_valid_ones(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "users:\n  scope: all\nrun_as: root\n") == [
        "rules.yaml:2: users.scope: unknown key 'scope'; remove it; valid keys here: operations, "
        "out_of_scope, include, exclude, username, display_name, email",
        "rules.yaml:3: run_as: unknown key 'run_as'; did you mean 'run'?",
    ]


def test_unknown_keys_inside_list_items_are_found(tmp_path: Path) -> None:
    text = """\
    groups:
      manual:
        mappings:
          - confluence_group: eng
            idp_group: [developers]
    """
    assert mistakes(tmp_path, text) == [
        "rules.yaml:4: groups.manual.mappings[0].idp_groups: required key 'idp_groups' is missing; "
        "add 'idp_groups: ...' here",
        "rules.yaml:5: groups.manual.mappings[0].idp_group: unknown key 'idp_group'; "
        "did you mean 'idp_groups'?",
    ]


USER_KEYS = "operations, out_of_scope, include, exclude, username, display_name, email"


@pytest.mark.parametrize(
    ("text", "line", "path", "problem", "fix"),
    [
        (
            "directory:\n  nested_groups: 'no'\n",
            2,
            "directory.nested_groups",
            "input should be a valid boolean, not 'no'",
            "write true or false",
        ),
        (
            "directory:\n  page_size: 5000\n",
            2,
            "directory.page_size",
            "input should be less than or equal to 1000, not 5000",
            "write a number <= 1000",
        ),
        (
            "directory:\n  page_size: 1.5\n",
            2,
            "directory.page_size",
            "input should be a valid integer, not 1.5",
            "write a whole number, e.g. 500",
        ),
        (
            "directory:\n  flavour: ldap\n",
            2,
            "directory.flavour",
            "input should be 'openldap', 'active_directory' or 'freeipa', not 'ldap'",
            "write one of 'openldap', 'active_directory' or 'freeipa'",
        ),
        (
            "directory:\n  connection_id: 42\n",
            2,
            "directory.connection_id",
            "input should be a valid string, not 42",
            "write text (quote it if it looks like a number or true/false)",
        ),
        (
            "users:\n  include:\n    groups: staff\n",
            3,
            "users.include.groups",
            "input should be a valid list, not 'staff'",
            "write a list: one '- item' per line, or [a, b]",
        ),
        (
            "users:\n  include:\n    groups:\n",
            3,
            "users.include.groups",
            "input should be a valid list, not an empty value",
            "write a list: one '- item' per line, or [a, b]",
        ),
        (
            "users: everyone\n",
            1,
            "users",
            "input should be a valid dictionary or instance of UserRules, not 'everyone'",
            f"write a mapping of 'key: value' lines (keys: {USER_KEYS})",
        ),
        (
            "users:\n  include:\n    attributes:\n      1: x\n",
            4,
            "users.include.attributes.1",
            "key 1 is not text",
            "write the key as text",
        ),
        (
            "groups:\n  manual:\n    mappings:\n      - confluence_group: eng\n        idp_groups: []\n",
            5,
            "groups.manual.mappings[0].idp_groups",
            "list should have at least 1 item after validation, not 0",
            "list at least 1 item(s)",
        ),
    ],
)
def test_wrong_types_say_what_to_write(
    tmp_path: Path, text: str, line: int, path: str, problem: str, fix: str
) -> None:
    assert mistakes(tmp_path, text) == [f"rules.yaml:{line}: {path}: {problem}; {fix}"]
