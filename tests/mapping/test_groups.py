"""Desired groups and memberships: default groups, manual mapping, on-the-fly mapping, protection."""

from __future__ import annotations

from confluence_provisioning.mapping.stage import map_rules
from tests.mapping.idp import BASE, directory, mapped, person, rows, rules

ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")


def groups_of(result) -> list[tuple]:
    return rows(result.groups, "name", "managed", "prune_members", "rule")


def members_of(result) -> list[tuple]:
    return rows(result.memberships, "group", "username", "new_users_only", "rule")


def test_default_groups_for_all_users_and_for_new_users_only() -> None:
    result = mapped(
        directory([BOB, ALICE]),
        groups={"default_groups": {"all_users": ["confluence-users"], "new_users": ["welcome"]}},
    )
    assert groups_of(result) == [
        ("confluence-users", True, False, "default group for all users"),
        ("welcome", True, False, "default group for new users"),
    ]
    assert members_of(result) == [
        ("confluence-users", "alice", False, "default group for all users"),
        ("confluence-users", "bob", False, "default group for all users"),
        ("welcome", "alice", True, "default group for new users"),
        ("welcome", "bob", True, "default group for new users"),
    ]


def test_default_groups_include_disabled_users_but_not_rejected_ones() -> None:
    idp = directory([ALICE, person("bob", active=False), person("carol", email=None)])
    result = mapped(idp, groups={"default_groups": {"all_users": ["confluence-users"]}})
    assert rows(result.memberships, "username") == [("alice",), ("bob",)]


def test_manual_mapping_merges_idp_groups_nested_members_included() -> None:
    idp = directory(
        [ALICE, BOB, CAROL],
        groups={"Developers": ["alice"], "qa": ["bob"], "sales": ["carol"]},
        nested={"Developers": ["bob"]},
    )
    manual = {
        "mappings": [
            {
                "confluence_group": "engineering",
                "idp_groups": ["developers", "QA"],
                "keep_existing_members": False,
            },
            {"confluence_group": "revenue", "idp_groups": ["sales"]},
        ]
    }
    result = mapped(idp, groups={"manual": manual})
    assert groups_of(result) == [
        ("engineering", True, True, "manual mapping from 'Developers'"),
        ("revenue", True, False, "manual mapping from 'sales'"),
    ]
    assert members_of(result) == [
        ("engineering", "alice", False, "manual mapping from 'Developers'"),
        ("engineering", "bob", False, "manual mapping from 'Developers'"),
        ("revenue", "carol", False, "manual mapping from 'sales'"),
    ]
    assert result.rejects.empty


def test_a_manual_mapping_naming_a_missing_idp_group_is_reported() -> None:
    idp = directory([ALICE], groups={"developers": ["alice"]})
    manual = {
        "mappings": [
            {"confluence_group": "engineering", "idp_groups": ["developers", "ghosts"]},
            {"confluence_group": "nobody", "idp_groups": ["phantoms"]},
        ]
    }
    result = mapped(idp, groups={"manual": manual})
    assert rows(result.groups, "name") == [("engineering",)]  # a group with no source is left alone
    assert rows(result.rejects, "kind", "id", "reason") == [
        (
            "group",
            "ghosts",
            "groups.manual.mappings[0] names IdP group 'ghosts', which the directory does not have; "
            "the others still feed 'engineering'",
        ),
        (
            "group",
            "phantoms",
            "groups.manual.mappings[1] names IdP group 'phantoms', which the directory does not have; "
            "so 'nobody' is left alone this run",
        ),
    ]


def test_import_unmapped_takes_the_other_groups_by_lower_cased_name_through_the_filters() -> None:
    idp = directory(
        [ALICE, BOB],
        groups={
            "Developers": ["alice"],
            "Team-Web": ["alice", "bob"],
            "Team-Old": ["bob"],
            "printers": ["bob"],
        },
    )
    manual = {
        "mappings": [{"confluence_group": "engineering", "idp_groups": ["developers"]}],
        "import_unmapped": True,
        "include": ["^team-"],
        "exclude": ["old$"],
    }
    result = mapped(idp, groups={"manual": manual})
    assert groups_of(result) == [
        ("engineering", True, False, "manual mapping from 'Developers'"),
        ("team-web", True, False, "unmapped IdP group 'Team-Web'"),
    ]
    assert rows(result.memberships, "group", "username") == [
        ("engineering", "alice"),
        ("team-web", "alice"),
        ("team-web", "bob"),
    ]


def test_on_the_fly_lower_cases_filters_and_rewrites_in_order() -> None:
    idp = directory(
        [ALICE, BOB],
        groups={"Team-Web": ["alice"], "Team-DB": ["bob"], "Office Berlin": ["alice"], "printers": ["bob"]},
    )
    on_the_fly = {
        "enabled": True,
        "include": ["^team-", "^office "],
        "exclude": ["-db$"],
        "rewrites": [
            {"pattern": "^team-(.*)$", "replace": "\\1-team"},
            {"pattern": "^office (?P<city>.*)$", "replace": "Office-\\g<city>"},  # lower-cased afterwards
        ],
    }
    result = mapped(idp, groups={"on_the_fly": on_the_fly})
    assert groups_of(result) == [
        ("office-berlin", True, False, "on-the-fly from 'Office Berlin'"),
        ("web-team", True, False, "on-the-fly from 'Team-Web'"),
    ]
    assert rows(result.memberships, "group", "username") == [
        ("office-berlin", "alice"),
        ("web-team", "alice"),
    ]


def test_on_the_fly_groups_are_pruned_only_when_existing_groups_are_not_kept() -> None:
    idp = directory([ALICE], groups={"staff": ["alice"]})
    kept = mapped(idp, groups={"on_the_fly": {"enabled": True}})
    pruned = mapped(idp, groups={"on_the_fly": {"enabled": True, "keep_existing_groups": False}})
    assert groups_of(kept) == [("staff", True, False, "on-the-fly from 'staff'")]
    assert groups_of(pruned) == [("staff", True, True, "on-the-fly from 'staff'")]


def test_without_create_missing_on_the_fly_maps_only_onto_existing_confluence_groups() -> None:
    idp = directory([ALICE], groups={"staff": ["alice"], "new-team": ["alice"]})
    settings = rules(groups={"on_the_fly": {"enabled": True, "create_missing": False}})
    result = map_rules(idp, settings, existing_groups=["Staff", "confluence-users"])
    assert rows(result.groups, "name") == [("staff",)]
    assert rows(result.rejects, "dn", "reason") == [
        (
            f"cn=new-team,ou=groups,{BASE}",
            "on-the-fly maps it onto 'new-team', which Confluence does not have, "
            "and groups.on_the_fly.create_missing is false",
        )
    ]
    # Unknown Confluence groups (None, as in an offline preview): every group is taken to exist.
    assert rows(map_rules(idp, settings).groups, "name") == [("new-team",), ("staff",)]


def test_manual_mapping_wins_when_on_the_fly_lands_on_its_group() -> None:
    idp = directory([ALICE, BOB], groups={"developers": ["alice"], "Engineering": ["bob"], "qa": ["bob"]})
    groups = {
        "manual": {"mappings": [{"confluence_group": "engineering", "idp_groups": ["developers"]}]},
        "on_the_fly": {"enabled": True},
    }
    result = mapped(idp, groups=groups)
    assert groups_of(result) == [
        ("engineering", True, False, "manual mapping from 'developers'"),
        ("qa", True, False, "on-the-fly from 'qa'"),
    ]
    assert rows(result.memberships, "group", "username") == [("engineering", "alice"), ("qa", "bob")]
    assert rows(result.rejects, "id", "reason") == [
        (
            "g:Engineering",
            "on-the-fly maps it onto 'engineering', which a manual mapping defines (manual mappings win)",
        )
    ]


def test_idp_groups_a_manual_mapping_names_are_not_also_mapped_on_the_fly() -> None:
    idp = directory([ALICE], groups={"developers": ["alice"]})
    groups = {
        "manual": {"mappings": [{"confluence_group": "engineering", "idp_groups": ["developers"]}]},
        "on_the_fly": {"enabled": True},
    }
    assert rows(mapped(idp, groups=groups).groups, "name") == [("engineering",)]


def test_a_group_several_rules_produce_gets_their_union_and_is_pruned_only_if_all_prune() -> None:
    idp = directory([ALICE, BOB], groups={"staff": ["alice"], "Team-Staff": ["bob"]})
    groups = {
        "default_groups": {"new_users": ["staff"]},
        "on_the_fly": {
            "enabled": True,
            "keep_existing_groups": False,
            "rewrites": [{"pattern": "^team-", "replace": ""}],
        },
    }
    result = mapped(idp, groups=groups)
    assert groups_of(result) == [("staff", True, False, "default group for new users")]
    assert members_of(result) == [
        ("staff", "alice", False, "on-the-fly from 'staff'"),  # a permanent rule beats new-users-only
        ("staff", "bob", False, "on-the-fly from 'Team-Staff'"),
    ]


def test_groups_landing_on_a_protected_group_are_reported_not_applied() -> None:
    idp = directory(
        [ALICE], groups={"Confluence-Administrators": ["alice"], "admins": ["alice"], "staff": ["alice"]}
    )
    groups = {
        "default_groups": {"all_users": ["site-admins"]},
        "manual": {"mappings": [{"confluence_group": "system-administrators", "idp_groups": ["admins"]}]},
        "on_the_fly": {"enabled": True},
    }
    protected = {"groups": ["confluence-administrators", "System-Administrators", "site-admins"]}
    result = mapped(idp, groups=groups, protected=protected)
    assert groups_of(result) == [("staff", True, False, "on-the-fly from 'staff'")]
    assert rows(result.memberships, "group", "username") == [("staff", "alice")]
    reason = "it maps onto '{}', a protected group (protected.groups), which a sync never changes"
    assert rows(result.rejects, "source", "kind", "dn", "id", "reason") == [
        ("mapping", "group", "", "site-admins", reason.format("site-admins")),
        (
            "mapping",
            "group",
            f"cn=Confluence-Administrators,ou=groups,{BASE}",
            "g:Confluence-Administrators",
            reason.format("confluence-administrators"),
        ),
        (
            "mapping",
            "group",
            f"cn=admins,ou=groups,{BASE}",
            "g:admins",
            reason.format("system-administrators"),
        ),
    ]


def test_a_rewrite_that_leaves_no_name_is_reported() -> None:
    idp = directory([ALICE], groups={"tmp": ["alice"]})
    on_the_fly = {"enabled": True, "rewrites": [{"pattern": ".*", "replace": ""}]}
    result = mapped(idp, groups={"on_the_fly": on_the_fly})
    assert result.groups.empty
    assert rows(result.rejects, "id", "reason") == [
        ("g:tmp", "on-the-fly rewrites make its name blank; change groups.on_the_fly.rewrites")
    ]


def test_memberships_are_only_for_users_the_mapping_keeps() -> None:
    idp = directory(
        [ALICE, person("Bob Smith"), person("svc", dn=f"uid=svc,ou=service,{BASE}")],
        groups={"staff": ["alice", "Bob Smith", "svc"]},
    )
    users = {"exclude": {"dn_subtrees": [f"ou=service,{BASE}"]}}
    result = mapped(idp, users=users, groups={"on_the_fly": {"enabled": True}})
    assert rows(result.memberships, "group", "username") == [("staff", "alice")]
