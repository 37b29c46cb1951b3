"""Names Confluence or a terminal cannot take: refused in the mapping, escaped wherever they are printed.

A real slapd serves the example directory plus tests/sources/ldap/hostile.py's entries; the sync runs
against the Confluence emulator, and the console commands print what they read.
"""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from confluence_provisioning import audit, cli, frames
from confluence_provisioning.audit import AuditStore, RunIdentity, RunOutcome
from confluence_provisioning.commands import check_ldap
from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.settings import Settings
from confluence_provisioning.sources.ldap.reading import read_directory
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.openldap import OpenLdapSandbox
from tests.apply.site import OPEN_LIMITS, site_state, sync
from tests.sources.ldap.directories import EXAMPLE, connection_json
from tests.sources.ldap.hostile import LENGTHEN, RAW, RLO, WIDE, ZWSP, hostile_ldif

RULES = Settings.model_validate(
    {
        "source": EXAMPLE.model_dump(exclude_defaults=True),
        "groups": {"on_the_fly": {"enabled": True, "rewrites": [LENGTHEN]}},
        "limits": OPEN_LIMITS,
    }
)
WHY_NOT = ", which Confluence does not allow"
EXPECTED_REJECTS = {
    ("user", "left out: its display name 'Eve \\x1b[31mRed' contains control characters (U+001B)"),
    (
        "user",
        f"left out: its username 'admin\\u202egpj' contains invisible bidirectional or zero-width "
        f"characters (U+202E){WHY_NOT}",
    ),
    (
        "user",
        f"left out: its username 'ad\\u200bmin' contains invisible bidirectional or zero-width "
        f"characters (U+200B){WHY_NOT}",
    ),
    ("user", "left out: its email 'bell\\x07@example.com' contains control characters (U+0007)"),
    ("user", "left out: its display name 'N\\x00ul' contains control characters (U+0000)"),
    ("user", "left out: its display name 'C1\\x9b2J' contains control characters (U+009B)"),
    (
        "user",
        f"left out: its display name '{'y' * 60}...' is 300 characters long, more than the 255 "
        "Confluence accepts",
    ),
    ("group", "its Confluence group name 'ops\\nteam' contains control characters (U+000A)"),
    ("group", "its Confluence group name 'qa\\x1b[2j' contains control characters (U+001B)"),
    (
        "group",
        f"its Confluence group name '{(WIDE * 2)[:60]}...' is 270 characters long, more than the 255 "
        "Confluence accepts",
    ),
}
HOSTILE_USERS = {"eve", RLO, ZWSP, "bell", "nul", "c1", "longname"}


@pytest.fixture
def hostile_ldap(ldap_server, tmp_path: Path) -> OpenLdapSandbox:
    return ldap_server([EXAMPLE_LDIF, hostile_ldif(tmp_path)])


def printed_safely(text: str) -> bool:
    return not any(raw in text for raw in RAW)


def test_hostile_names_are_rejects_and_nothing_of_them_reaches_confluence(
    hostile_ldap: OpenLdapSandbox, confluence, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(hostile_ldap))
    wanted = map_rules(read_directory(RULES.source), RULES)
    found = {
        (kind, reason)
        for kind, reason in zip(wanted.rejects["kind"], wanted.rejects["reason"], strict=True)
        if re.search("control characters|invisible|characters long", reason)
    }
    assert found == EXPECTED_REJECTS
    assert set(wanted.held["username"]) >= HOSTILE_USERS  # active: their accounts would be held

    run = sync(confluence, wanted, RULES)

    assert run.result.ok, run.result.summary()
    state = site_state(confluence)
    assert not HOSTILE_USERS & state["users"].keys()
    assert all(printed_safely(name) and len(name) <= 255 for name in state["groups"])
    assert all(printed_safely(value) for user in state["users"].values() for value in user[:2])
    assert len(state["users"]) == len(wanted.users[wanted.users["active"]])
    assert state["groups"] == set(wanted.groups["name"]) | {"confluence-administrators", "confluence-users"}


def test_preview_prints_hostile_values_escaped(
    hostile_ldap: OpenLdapSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(hostile_ldap))
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"directory:\n  user_base_dn: {EXAMPLE.user_base_dn}\n  group_base_dn: {EXAMPLE.group_base_dn}\n"
        "groups:\n  on_the_fly:\n    enabled: true\n",
        encoding="utf-8",
    )
    assert cli.main(["preview", "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert printed_safely(out)
    assert "left out: its username 'admin\\u202egpj' contains invisible" in out
    assert "its Confluence group name 'ops\\nteam' contains control characters (U+000A)" in out


def test_check_ldap_prints_hostile_values_escaped(
    hostile_ldap: OpenLdapSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", connection_json(hostile_ldap))
    out, err = io.StringIO(), io.StringIO()
    assert check_ldap.run(argparse.Namespace(rules=None, conn_id=None, user="eve"), out, err) == 0
    assert err.getvalue() == ""
    assert printed_safely(out.getvalue())
    assert "Eve \\x1b[31mRed" in out.getvalue()


def test_history_prints_hostile_values_escaped(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    results = frames.conform(
        pd.DataFrame(
            [("add_membership", "alice", "ops\nteam", "failed", 400, 1, 5.0, f"bad name {RLO}\x1b[2J")],
            columns=list(audit.OPERATIONS),
        ),
        audit.OPERATIONS,
    )
    started = pd.Timestamp("2025-03-01T02:00:00Z").to_pydatetime()
    with AuditStore(url) as store:
        store.record_run(
            RunIdentity("confluence_provisioning", "manual__1", started, "default.yaml", "f" * 64, False),
            RunOutcome(
                "failed",
                started,
                results,
                frames.empty(frames.REJECTS),
                error="1 failed:\nadd ops\x1b[2Jteam",
            ),
        )
    assert cli.main(["history", "--db", url, "--run", "1"]) == 0
    out = capsys.readouterr().out
    assert printed_safely(out)
    assert "  error:    1 failed:\nadd ops\\x1b[2Jteam\n" in out
    assert (
        "add_membership  alice   ops\\nteam  failed  400   1         bad name admin\\u202egpj\\x1b[2J" in out
    )
