"""The source: and target: sections, and the legacy directory: and confluence: forms of them."""

from __future__ import annotations

from pathlib import Path

from tests.settings.rules_files import load, mistakes


def test_source_and_target_name_their_kind(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        source:
          kind: ldap
          connection_id: corp_ldap
          flavour: freeipa
        target:
          kind: confluence_data_center
          connection_id: wiki
          max_in_flight: 2
        """,
    )
    assert (settings.source.kind, settings.source.connection_id, settings.source.flavour) == (
        "ldap",
        "corp_ldap",
        "freeipa",
    )
    assert (settings.target.kind, settings.target.connection_id, settings.target.max_in_flight) == (
        "confluence_data_center",
        "wiki",
        2,
    )


def test_the_legacy_sections_are_the_ldap_and_data_center_forms(tmp_path: Path) -> None:
    legacy = load(tmp_path, "directory:\n  flavour: freeipa\nconfluence:\n  connection_id: wiki\n")
    current = load(
        tmp_path,
        "source:\n  kind: ldap\n  flavour: freeipa\n"
        "target:\n  kind: confluence_data_center\n  connection_id: wiki\n",
    )
    assert legacy == current


def test_a_mistake_in_a_legacy_section_is_named_as_the_file_writes_it(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "users: {}\ndirectory:\n  page_sise: 10\n") == [
        "rules.yaml:3: directory.page_sise: unknown key 'page_sise'; did you mean 'page_size'?"
    ]


def test_both_forms_at_once_is_a_mistake(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "source:\n  kind: ldap\ndirectory:\n  flavour: freeipa\n") == [
        "rules.yaml:3: directory: is the ldap form of 'source:', which the file also has; keep one of the two"
    ]


def test_an_unknown_kind_lists_the_kinds(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "target:\n  kind: jira\n") == [
        "rules.yaml:2: target.kind: unknown kind 'jira'; write one of confluence_data_center, atlassian_cloud"
    ]


def test_an_atlassian_cloud_target_takes_its_own_keys(tmp_path: Path) -> None:
    target = load(tmp_path, "target:\n  kind: atlassian_cloud\n  member_batch: 50\n").target
    assert (target.kind, target.connection_id, target.member_batch, target.page_size) == (
        "atlassian_cloud",
        "atlassian_scim_default",
        50,
        100,
    )
    assert mistakes(tmp_path, "target:\n  kind: atlassian_cloud\n  page_size: 500\n") == [
        "rules.yaml:3: target.page_size: input should be less than or equal to 100, not 500; "
        "write a number <= 100"
    ]


def test_deleting_users_is_refused_for_atlassian_cloud_at_validate_time(tmp_path: Path) -> None:
    rules = (
        "target:\n  kind: atlassian_cloud\nusers:\n  out_of_scope: delete\n  operations:\n    delete: true\n"
    )
    assert mistakes(tmp_path, rules) == [
        "rules.yaml:4: users.out_of_scope: is delete, but an atlassian_cloud target cannot delete users; "
        "set users.out_of_scope: disable (or keep)",
        "rules.yaml:6: users.operations.delete: is true, but an atlassian_cloud target cannot delete users "
        "(its API only deactivates them); set users.operations.delete: false; out-of-scope users are then "
        "disabled",
    ]
