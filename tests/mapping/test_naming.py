"""The Confluence username, display name and email of each user; users that cannot be named."""

from __future__ import annotations

import pytest

from tests.mapping.idp import BASE, directory, mapped, person, rows

NAMES = ("username", "display_name", "email")


def test_defaults_lower_case_login_and_email_and_keep_the_display_name() -> None:
    idp = directory([person("JDoe", email="John.Doe@Example.com", display_name="John Doe")])
    assert rows(mapped(idp).users, *NAMES) == [("jdoe", "John Doe", "john.doe@example.com")]


def test_a_field_can_come_from_another_attribute_and_be_rewritten() -> None:
    idp = directory([person("u1001", email="john.doe@corp.com"), person("u1002", email="ann@corp.com")])
    username = {
        "attribute": "email",
        "lowercase": True,
        "rewrites": [{"pattern": "@corp\\.com$", "replace": ""}],
    }
    assert rows(mapped(idp, users={"username": username}).users, "username", "email") == [
        ("ann", "ann@corp.com"),
        ("john.doe", "john.doe@corp.com"),
    ]


def test_rewrites_apply_in_order_with_back_references() -> None:
    idp = directory([person("ext-Smith-John")])
    username = {
        "lowercase": True,
        "rewrites": [
            {"pattern": "^ext-(?P<last>[a-z]+)-([a-z]+)$", "replace": "\\2.\\g<last>"},
            {"pattern": "^(.*)$", "replace": "x-\\1"},
        ],
    }
    assert rows(mapped(idp, users={"username": username}).users, "username") == [("x-john.smith",)]


def test_an_extra_attribute_gives_its_first_value() -> None:
    idp = directory([person("alice", **{"attr.employeenumber": "E-17\nE-18"})])
    users = {"username": {"attribute": "employeeNumber", "lowercase": True}}
    assert rows(mapped(idp, users=users).users, "username") == [("e-17",)]


@pytest.mark.parametrize("display_name", [None, "", "   "])
def test_a_missing_display_name_falls_back_to_the_username(display_name: str | None) -> None:
    idp = directory([person("Alice", display_name=display_name)])
    assert rows(mapped(idp).users, "username", "display_name") == [("alice", "alice")]


def left_out(idp, **users) -> list[tuple[str, str]]:
    result = mapped(idp, users=users)
    assert set(result.rejects["source"]) <= {"mapping"} and set(result.rejects["kind"]) <= {"user"}
    return rows(result.rejects, "id", "reason")


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("", "its username is blank"),
        ("mary jane", "its username 'mary jane' contains whitespace, which Confluence does not allow"),
        (
            "tab\tbed",
            "its username 'tab\\tbed' contains control characters (U+0009), which Confluence does not allow",
        ),
        (
            "esc\x1b[2jx\x00",
            "its username 'esc\\x1b[2jx\\x00' contains control characters (U+001B, U+0000), "
            "which Confluence does not allow",
        ),
        (
            "c1\x9bx",
            "its username 'c1\\x9bx' contains control characters (U+009B), which Confluence does not allow",
        ),
        (
            "admin\u202egpj.exe",
            "its username 'admin\\u202egpj.exe' contains invisible bidirectional or zero-width characters "
            "(U+202E), which Confluence does not allow",
        ),
        (
            "ad\u200bmin",
            "its username 'ad\\u200bmin' contains invisible bidirectional or zero-width characters (U+200B), "
            "which Confluence does not allow",
        ),
        (
            "x" * 256,
            f"its username '{'x' * 60}...' is 256 characters long, more than the 255 Confluence accepts, "
            "which Confluence does not allow",
        ),
        ("nbsp\u00a0x", "its username 'nbsp\u00a0x' contains whitespace, which Confluence does not allow"),
        (
            "corp\\bob",
            "its username 'corp\\bob' contains a forbidden character (\\), which Confluence does not allow",
        ),
        (
            "smith,anna",
            "its username 'smith,anna' contains a forbidden character (,), which Confluence does not allow",
        ),
        ("a+b", "its username 'a+b' contains a forbidden character (+), which Confluence does not allow"),
        ("<b>", "its username '<b>' contains forbidden characters (< >), which Confluence does not allow"),
        (
            "o'neil",
            "its username 'o'neil' contains a forbidden character ('), which Confluence does not allow",
        ),
        ('"q"', 'its username \'"q"\' contains a forbidden character ("), which Confluence does not allow'),
        ("anonymous", "its username 'anonymous' is reserved by Confluence"),
    ],
)
def test_usernames_confluence_refuses_are_left_out_with_the_reason(login: str, reason: str) -> None:
    idp = directory([person("ok"), person(login, email="x@example.com", display_name="Someone")])
    assert left_out(idp) == [(f"u:{login}", f"left out: {reason}")]


def test_an_upper_case_username_is_refused_when_not_lower_cased() -> None:
    idp = directory([person("JSmith")])
    assert left_out(idp, username={"lowercase": False}) == [
        (
            "u:JSmith",
            "left out: its username 'JSmith' is not lower case (set users.username.lowercase: true), "
            "which Confluence does not allow",
        )
    ]


def test_a_display_name_of_anonymous_is_refused() -> None:
    idp = directory([person("alice", display_name="Anonymous")])
    assert left_out(idp) == [("u:alice", "left out: its display name 'Anonymous' is reserved by Confluence")]


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        (None, "it has no email address, and Confluence requires one"),
        ("", "it has no email address, and Confluence requires one"),
        ("alice", "its email 'alice' is not a valid address"),
        ("alice@localhost", "its email 'alice@localhost' is not a valid address"),
        ("a b@example.com", "its email 'a b@example.com' is not a valid address"),
        ("a@b@example.com", "its email 'a@b@example.com' is not a valid address"),
    ],
)
def test_a_user_without_a_valid_email_is_left_out(email: str | None, reason: str) -> None:
    assert left_out(directory([person("alice", email=email)])) == [("u:alice", f"left out: {reason}")]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (
            "display_name",
            "Eve\x1b[31m",
            "its display name 'Eve\\x1b[31m' contains control characters (U+001B)",
        ),
        (
            "display_name",
            "y" * 300,
            f"its display name '{'y' * 60}...' is 300 characters long, more than the 255 Confluence accepts",
        ),
        (
            "email",
            "eve\x00@example.com",
            "its email 'eve\\x00@example.com' contains control characters (U+0000)",
        ),
        (
            "email",
            "e" * 250 + "@example.com",
            f"its email '{'e' * 60}...' is 262 characters long, more than the 255 Confluence accepts",
        ),
    ],
)
def test_display_names_and_emails_with_control_characters_or_too_long_are_left_out(
    field: str, value: str, reason: str
) -> None:
    idp = directory([person("ok"), person("eve", **{field: value})])
    assert left_out(idp) == [("u:eve", f"left out: {reason}")]


def test_an_apostrophe_is_valid_in_an_email() -> None:
    idp = directory([person("sobrien", email="sean.o'brien@example.com")])
    assert rows(mapped(idp).users, "email") == [("sean.o'brien@example.com",)]


def test_several_problems_are_all_given() -> None:
    idp = directory([person("Mary Jane", email="none")])
    assert left_out(idp) == [
        (
            "u:Mary Jane",
            "left out: its username 'mary jane' contains whitespace, which Confluence does not allow; "
            "its email 'none' is not a valid address",
        )
    ]


def test_users_with_the_same_username_are_both_left_out_naming_each_other() -> None:
    idp = directory(
        [
            person("JSmith"),
            person(
                "jsmith",
                id="u:contractor",
                dn=f"uid=jsmith,ou=contractors,ou=people,{BASE}",
                email="js@x.org",
            ),
            person("ann"),
        ]
    )
    result = mapped(idp)
    assert rows(result.users, "username") == [("ann",)]
    assert left_out(idp) == [
        (
            "u:JSmith",
            "left out: its username 'jsmith' is also the username of "
            f"'uid=jsmith,ou=contractors,ou=people,{BASE}'; nobody is merged",
        ),
        (
            "u:contractor",
            "left out: its username 'jsmith' is also the username of "
            f"'uid=JSmith,ou=people,{BASE}'; nobody is merged",
        ),
    ]


def test_users_with_the_same_email_ignoring_case_are_both_left_out() -> None:
    idp = directory(
        [person("jdoe", email="John.Doe@example.com"), person("jdoe-adm", email="john.doe@EXAMPLE.com")]
    )
    assert left_out(idp, email={"lowercase": False}) == [
        (
            "u:jdoe",
            "left out: its email 'john.doe@example.com' is also the email of "
            f"'uid=jdoe-adm,ou=people,{BASE}'; nobody is merged",
        ),
        (
            "u:jdoe-adm",
            f"left out: its email 'john.doe@example.com' is also the email of 'uid=jdoe,ou=people,{BASE}'; "
            "nobody is merged",
        ),
    ]


def test_three_way_collision_names_both_others() -> None:
    idp = directory(
        [person("a", email="same@x.org"), person("b", email="same@x.org"), person("c", email="same@x.org")]
    )
    reasons = dict(left_out(idp))
    assert reasons["u:b"] == (
        f"left out: its email 'same@x.org' is also the email of 'uid=a,ou=people,{BASE}', "
        f"'uid=c,ou=people,{BASE}'; nobody is merged"
    )


def test_a_protected_user_is_left_out_and_reported_ignoring_case() -> None:
    idp = directory([person("Admin"), person("alice")], groups={"staff": ["Admin", "alice"]})
    result = mapped(idp, protected={"users": ["ADMIN"]}, groups={"on_the_fly": {"enabled": True}})
    assert rows(result.users, "username") == [("alice",)]
    assert rows(result.memberships, "group", "username") == [("staff", "alice")]
    assert rows(result.rejects, "kind", "id", "reason") == [
        (
            "user",
            "u:Admin",
            "left out: 'admin' is a protected user (protected.users), which a sync never changes",
        )
    ]


def test_a_large_collision_names_three_others_and_counts_the_rest() -> None:
    idp = directory([person(f"user{n:04}", email="noreply@example.com") for n in range(2000)])
    reasons = dict(left_out(idp))
    assert len(reasons) == 2000
    assert reasons["u:user0001"] == (
        "left out: its email 'noreply@example.com' is also the email of "
        f"'uid=user0000,ou=people,{BASE}', 'uid=user0002,ou=people,{BASE}', "
        f"'uid=user0003,ou=people,{BASE}' and 1996 more; nobody is merged"
    )


def test_active_users_left_out_are_held_by_the_username_the_rules_gave_them() -> None:
    contractor = f"uid=jsmith,ou=contractors,ou=people,{BASE}"
    idp = directory(
        [
            person("JSmith"),  # the same username as the contractor once lower-cased
            person("jsmith", id="u:contractor", dn=contractor, email="john.smith@example.com"),
            person("ann", email=None),  # her email was removed
            person("bob", email=None, active=False),  # a leaver: his account goes out of scope
            person("mary jane", email="mj@example.com"),  # a name Confluence forbids
            person(" "),  # no username to hold
            person("carol"),
        ]
    )
    result = mapped(idp)
    assert rows(result.users, "username") == [("carol",)]
    assert rows(result.held) == [
        ("ann", "left out: it has no email address, and Confluence requires one"),
        (
            "jsmith",
            f"left out: its username 'jsmith' is also the username of 'uid=JSmith,ou=people,{BASE}'; "
            "nobody is merged",
        ),
        (
            "mary jane",
            "left out: its username 'mary jane' contains whitespace, which Confluence does not allow",
        ),
    ]


def test_a_username_a_synced_user_has_is_not_held() -> None:
    idp = directory([person("JDoe"), person("jdoe", id="u:jdoe2", email="john.doe@example.com")])
    result = mapped(idp, users={"username": {"lowercase": False}})
    assert rows(result.users, "username") == [("jdoe",)]
    assert rows(result.rejects, "id") == [("u:JDoe",)]
    assert result.held.empty
