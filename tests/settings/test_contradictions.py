"""Options that are each valid but cannot hold together, and mistakes in the YAML itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.settings.rules_files import load, mistakes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "users:\n  out_of_scope: delete\n",
            "rules.yaml:2: users.out_of_scope: 'delete' needs users.operations.delete: true, which is false; "
            "set users.operations.delete: true, or choose another out_of_scope (disable, keep)",
        ),
        (
            "users:\n  operations:\n    disable: false\n",
            "rules.yaml:1: users.out_of_scope: 'disable' needs users.operations.disable: true, which is "
            "false; set users.operations.disable: true, or choose another out_of_scope (delete, keep)",
        ),
        (
            "users:\n  include:\n    dn_subtrees: ['ou=People,dc=x']\n"
            "  exclude:\n    dn_subtrees: ['ou=people, DC=x']\n",
            "rules.yaml:5: users.exclude.dn_subtrees[0]: 'ou=people, DC=x' is both included "
            "(users.include.dn_subtrees) and excluded; remove it from one of the two lists",
        ),
        (
            "users:\n  include:\n    attributes: {login: '^a'}\n  exclude:\n    attributes: {login: '^a'}\n",
            "rules.yaml:5: users.exclude.attributes.login: '^a' is both included (users.include.attributes) "
            "and excluded; remove it from one of the two lists",
        ),
        (
            "groups:\n  on_the_fly:\n    enabled: true\n    include: ['^x']\n    exclude: ['^y', '^x']\n",
            "rules.yaml:5: groups.on_the_fly.exclude[1]: '^x' is both included (groups.on_the_fly.include) "
            "and excluded; remove it from one of the two lists",
        ),
        (
            "users:\n  include: {}\n",
            "rules.yaml:2: users.include: has no conditions, so no user would be in scope; list groups, "
            "dn_subtrees or attributes under it, or remove the key to take every user",
        ),
        (
            "users:\n  include:\n",
            "rules.yaml:2: users.include: is empty, which would put every user in scope by accident; list "
            "groups, dn_subtrees or attributes under it, or remove the key to take every user",
        ),
        (
            "groups:\n  on_the_fly:\n    rewrites:\n      - {pattern: '^a', replace: b}\n",
            "rules.yaml:3: groups.on_the_fly.rewrites: has no effect: groups.on_the_fly.enabled is false; "
            "set groups.on_the_fly.enabled: true, or remove rewrites",
        ),
        (
            "groups:\n  manual:\n    import_unmapped: true\n  on_the_fly:\n    enabled: true\n",
            "rules.yaml:3: groups.manual.import_unmapped: both this and groups.on_the_fly import the IdP "
            "groups that no mapping names; use one of them: set import_unmapped: false, or "
            "groups.on_the_fly.enabled: false",
        ),
        (
            "groups:\n  manual:\n    exclude: ['^tmp']\n",
            "rules.yaml:3: groups.manual.exclude: has no effect: these filters choose the groups "
            "import_unmapped imports, and import_unmapped is false; set groups.manual.import_unmapped: "
            "true, or remove exclude",
        ),
        (
            "groups:\n  manual:\n    mappings:\n      - {confluence_group: eng, idp_groups: [dev]}\n"
            "      - {confluence_group: eng, idp_groups: [qa, QA]}\n",
            "rules.yaml:5: groups.manual.mappings[1].confluence_group: 'eng' is already mapped by "
            "groups.manual.mappings[0]; add these idp_groups to mappings[0] and remove this mapping\n"
            "rules.yaml:5: groups.manual.mappings[1].idp_groups[1]: 'QA' is listed twice; remove one of them",
        ),
        (
            "groups:\n  on_the_fly:\n    enabled: true\n  manual:\n    mappings:\n"
            "      - {confluence_group: devs, idp_groups: [Devs]}\n"
            "      - {confluence_group: ops, idp_groups: [ops], keep_existing_members: false}\n",
            "rules.yaml:6: groups.manual.mappings[0]: maps the IdP group 'devs' to itself, which "
            "groups.on_the_fly already does with the same member handling; remove this mapping (a mapping "
            "of a group to itself is only useful to change keep_existing_members)",
        ),
        (
            "groups:\n  default_groups:\n    all_users: [confluence-administrators]\n",
            "rules.yaml:3: groups.default_groups.all_users[0]: 'confluence-administrators' is a protected "
            "group (protected.groups), which a sync never changes; remove it here, or remove it from "
            "protected.groups",
        ),
        (
            "groups:\n  default_groups:\n    all_users: [staff]\n    new_users: [welcome, staff]\n",
            "rules.yaml:4: groups.default_groups.new_users[1]: 'staff' is also in "
            "groups.default_groups.all_users, which already covers new users; remove it from new_users",
        ),
        (
            "directory:\n  extra_attributes: [departmentNumber]\nusers:\n  username:\n    attribute: mail\n"
            "  exclude:\n    attributes: {departmentnumbr: x}\n",
            "rules.yaml:5: users.username.attribute: attribute 'mail' is not read from the directory; did "
            "you mean 'email'? use one of login, email, display_name or add 'mail' to "
            "directory.extra_attributes\n"
            "rules.yaml:7: users.exclude.attributes.departmentnumbr: attribute 'departmentnumbr' is not "
            "read from the directory; did you mean 'departmentnumber'? use one of login, email, "
            "display_name or add 'departmentnumbr' to directory.extra_attributes",
        ),
        (
            "confluence:\n  retry:\n    base_delay_seconds: 10\n    max_delay_seconds: 5\n",
            "rules.yaml:4: confluence.retry.max_delay_seconds: 5.0 is below base_delay_seconds (10.0); "
            "write a max_delay_seconds at least as large as base_delay_seconds",
        ),
    ],
)
def test_contradictions_are_mistakes(tmp_path: Path, text: str, expected: str) -> None:
    assert "\n".join(mistakes(tmp_path, text)) == expected


def test_a_value_that_is_itself_wrong_raises_no_contradiction_about_it(tmp_path: Path) -> None:
    text = "users:\n  operations:\n    delete: 'yes'\n  out_of_scope: delete\n"
    assert mistakes(tmp_path, text) == [
        "rules.yaml:3: users.operations.delete: input should be a valid boolean, not 'yes'; "
        "write true or false"
    ]


def test_a_mapping_of_a_group_to_itself_that_changes_pruning_is_allowed(tmp_path: Path) -> None:
    text = """\
    groups:
      on_the_fly: {enabled: true}
      manual:
        mappings:
          - {confluence_group: ops, idp_groups: [ops], keep_existing_members: false}
    """
    assert load(tmp_path, text).groups.manual.mappings[0].confluence_group == "ops"


def test_yaml_syntax_errors_name_their_line(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "users:\n  include:\n    groups: [staff\n  exclude: {}\n") == [
        "rules.yaml:4: (yaml): not valid YAML: expected ',' or ']', but got ':'; check "
        "the indentation and quoting there (quote patterns with single quotes: '^team-(.*)$')"
    ]


def test_a_key_written_twice_is_a_mistake_and_the_last_value_counts(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "users:\n  out_of_scope: keep\n  out_of_scope: delete\n") == [
        "rules.yaml:3: users.out_of_scope: 'delete' needs users.operations.delete: true, which is false; "
        "set users.operations.delete: true, or choose another out_of_scope (disable, keep)",
        "rules.yaml:3: users.out_of_scope: key 'out_of_scope' is written twice (line 2 and line 3), "
        "and only the last one counts; keep one of them",
    ]


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "- users\n- groups\n") == [
        "rules.yaml:1: (file): is not a mapping of sections; start with a section such as 'users:'"
    ]


def test_a_dn_inside_brackets_is_split_at_its_commas(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "users:\n  exclude:\n    dn_subtrees: [ou=service,dc=example,dc=com]\n") == [
        "rules.yaml:3: users.exclude.dn_subtrees: the DN in [...] is split at its commas into 3 entries; "
        "write one DN per '- ' line, or quote it: ['ou=people,dc=example,dc=com']"
    ]


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes("users:\n  include:\n    groups: [\xe9quipe]\n".encode("latin-1"))
    from confluence_provisioning.settings import RulesError, load_settings

    with pytest.raises(RulesError) as raised:
        load_settings(path)
    assert (
        str(raised.value)
        == f"{path}:1: (file): is not UTF-8 text (invalid continuation byte); save it as UTF-8"
    )
