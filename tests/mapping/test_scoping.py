"""Which IdP users are in scope, and the rule that says why."""

from __future__ import annotations

from tests.mapping.idp import BASE, directory, mapped, person, rows

ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")


def in_scope(idp, **users) -> list[tuple[str, str]]:
    return rows(mapped(idp, users=users).users, "username", "rule")


def test_without_include_every_user_is_in_scope() -> None:
    assert in_scope(directory([CAROL, ALICE, BOB])) == [
        ("alice", "all users"),
        ("bob", "all users"),
        ("carol", "all users"),
    ]


def test_include_by_group_ignores_case_and_counts_nested_membership() -> None:
    idp = directory([ALICE, BOB, CAROL], groups={"Staff": ["alice"]}, nested={"Staff": ["bob"]})
    assert in_scope(idp, include={"groups": ["staff"]}) == [
        ("alice", "include group 'staff'"),
        ("bob", "include group 'staff'"),
    ]


def test_include_by_dn_subtree_compares_rdns_not_text() -> None:
    idp = directory(
        [
            person("alice", dn="uid=alice, OU=People,DC=Example, dc=com"),  # other case and spacing
            person("bob", dn=f"uid=bob,ou=contractors,ou=people,{BASE}"),  # one level down
            person("carol", dn=f"uid=carol,ou=contractors-ou=people,{BASE}"),  # the text ends alike
            person("dave", dn=f"uid=smith\\,dave,ou=people,{BASE}"),  # an escaped comma
            person("erin", dn=f"ou=people,{BASE}"),  # the base entry itself
        ]
    )
    assert in_scope(idp, include={"dn_subtrees": [f"ou=people,{BASE}"]}) == [
        ("alice", f"include dn_subtree 'ou=people,{BASE}'"),
        ("bob", f"include dn_subtree 'ou=people,{BASE}'"),
        ("dave", f"include dn_subtree 'ou=people,{BASE}'"),
        ("erin", f"include dn_subtree 'ou=people,{BASE}'"),
    ]


def test_include_by_attribute_pattern_matches_any_value_of_a_multi_valued_attribute() -> None:
    idp = directory(
        [
            person("alice", **{"attr.departmentnumber": "sales\nengineering"}),
            person("bob", **{"attr.departmentnumber": "reengineering"}),
            person("carol", **{"attr.departmentnumber": None}),
        ]
    )
    users = {"include": {"attributes": {"departmentNumber": "^engineering$"}}}
    assert in_scope(idp, **users) == [("alice", "include attribute departmentNumber ~ '^engineering$'")]


def test_attribute_patterns_read_the_users_frame_columns_too() -> None:
    idp = directory([ALICE, BOB, person("carol", email="carol@partner.org")])
    assert in_scope(idp, include={"attributes": {"email": "@example\\.com$"}}) == [
        ("alice", "include attribute email ~ '@example\\.com$'"),
        ("bob", "include attribute email ~ '@example\\.com$'"),
    ]


def test_the_first_condition_written_names_the_rule() -> None:
    idp = directory([ALICE, BOB], groups={"zeta": ["alice", "bob"], "alpha": ["alice"]})
    include = {"groups": ["zeta", "alpha"], "dn_subtrees": [BASE]}
    assert in_scope(idp, include=include) == [
        ("alice", "include group 'zeta'"),
        ("bob", "include group 'zeta'"),
    ]


def test_exclude_wins_over_include() -> None:
    idp = directory(
        [ALICE, BOB, person("svc", dn=f"uid=svc,ou=service,{BASE}")],
        groups={"staff": ["alice", "bob", "svc"], "robots": ["bob"]},
    )
    users = {
        "include": {"groups": ["staff"]},
        "exclude": {"groups": ["robots"], "dn_subtrees": [f"ou=service,{BASE}"]},
    }
    assert in_scope(idp, **users) == [("alice", "include group 'staff'")]


def test_exclude_alone_takes_everyone_else() -> None:
    idp = directory([ALICE, BOB, CAROL])
    assert in_scope(idp, exclude={"attributes": {"login": "^b"}}) == [
        ("alice", "all users"),
        ("carol", "all users"),
    ]


def test_a_disabled_idp_account_is_a_disabled_confluence_user_not_out_of_scope() -> None:
    idp = directory([ALICE, person("bob", active=False)])
    assert rows(mapped(idp).users, "username", "active") == [("alice", True), ("bob", False)]


def test_an_empty_directory_maps_to_empty_frames() -> None:
    result = mapped(directory([]), groups={"default_groups": {"all_users": ["confluence-users"]}})
    assert result.users.empty and result.memberships.empty and result.rejects.empty
    assert rows(result.groups) == [("confluence-users", True, False, "default group for all users")]
