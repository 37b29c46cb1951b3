"""Email drift when Confluence shows emails, when it hides them (ledger), and with neither."""

from __future__ import annotations

import pandas as pd

from confluence_provisioning.plan.planner import plan
from confluence_provisioning.settings import Settings
from tests.plan.states import current, desired, rows

WANT = desired(
    [
        ("alice", "Alice", "alice@new.example.org", True),
        ("bob", "Bob", "bob@example.org", True),
        ("carol", "Carol", "carol@example.org", True),
    ]
)
HIDDEN = current([("alice", "Alice", None, True), ("bob", "Bob", None, True), ("carol", "Carol", None, True)])
LEDGER = pd.DataFrame(
    {
        "username": ["alice", "alice", "Bob"],
        "email": ["alice@new.example.org", "alice@old.example.org", "bob@example.org"],
        "display_name": ["Alice", "Alice", "Bob"],
        "pushed_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01"], utc=True),
    }
)


def test_hidden_emails_are_compared_with_what_was_last_pushed():
    result = plan(WANT, HIDDEN, Settings(), ledger=LEDGER)
    assert result.email_source == "ledger"
    assert rows(result) == [("update_user", "alice", None)]
    assert result.operations[0].reason == (
        "rule scope:all: email 'alice@old.example.org' -> 'alice@new.example.org'"
    )
    assert result.operations[0].payload == {"full_name": None, "email": "alice@new.example.org"}
    assert result.notes == (
        "Confluence hides emails: email changes are compared with the emails this sync last pushed",
        "1 Confluence users have no pushed email on record: their emails are not compared",
    )


def test_hidden_emails_without_a_ledger_plan_no_email_update():
    result = plan(WANT, HIDDEN, Settings())
    assert result.email_source == "none"
    assert len(result) == 0
    assert result.notes == (
        "Confluence hides emails and no ledger of pushed emails was given: email changes are not planned",
    )


def test_visible_emails_win_over_the_ledger():
    have = current(
        [
            ("alice", "Alice", "alice@new.example.org", True),
            ("bob", "Bob", "bob@old.org", True),
            ("carol", "Carol", None, True),
        ]
    )
    result = plan(WANT, have, Settings(), ledger=LEDGER)
    assert result.email_source == "confluence"
    assert rows(result) == [("update_user", "bob", None)]


def test_a_name_change_leaves_a_hidden_email_alone():
    have = current(
        [("alice", "Alice Old", None, True), ("bob", "Bob", None, True), ("carol", "Carol", None, True)]
    )
    result = plan(WANT, have, Settings())
    assert rows(result) == [("update_user", "alice", None)]
    assert result.operations[0].payload == {"full_name": "Alice", "email": None}
    assert result.operations[0].reason == "rule scope:all: display name 'Alice Old' -> 'Alice'"
