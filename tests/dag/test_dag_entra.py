"""Whole DAG runs with Entra ID as the source: the example directory served by the Entra emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.settings import load_settings
from confluence_provisioning.sources.ldap.ldif import ldif_snapshot
from sandbox.confluence import EmulatorServer
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.entra import EntraEmulatorServer
from tests.dag.conftest import Site, confluence_connection
from tests.dag.test_dag_runs import confluence_state, operation_set, operations
from tests.sources.entra.conftest import connection
from tests.sources.entra.test_incremental import CHANGES

PEOPLE = "ou=people,dc=example,dc=com"
GUEST = (
    f"dn: uid=gina,{PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: gina\ncn: Gina Guest\n"
    "sn: Guest\nmail: gina@partner.example\nemployeeType: Guest\n"
)


@pytest.fixture
def site(
    sync_dag: Any,
    entra: EntraEmulatorServer,
    confluence: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Site:
    monkeypatch.setenv("AIRFLOW_CONN_ENTRA_DEFAULT", connection(entra))
    monkeypatch.setenv("AIRFLOW_CONN_CONFLUENCE_DEFAULT", confluence_connection(confluence))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONFLUENCE_PROVISIONING_AUDIT",
        json.dumps({"conn_type": "sqlite", "host": f"{tmp_path}/audit.db"}),
    )
    return Site(sync_dag, confluence, f"sqlite:///{tmp_path}/audit.db")


def ldap_desired(rules_dir: Path, ldif: Path) -> Any:
    """What the LDAP rules (default.yaml) make of the same directory, read from its LDIF without a server."""
    settings = load_settings(rules_dir / "default.yaml")
    return map_rules(ldif_snapshot(ldif, settings.source), settings)


def test_entra_syncs_the_example_as_ldap_would_then_reads_only_the_changes(
    site: Site, entra: EntraEmulatorServer, rules_dir: Path, tmp_path: Path
) -> None:
    entra.directory.apply_ldif(GUEST)  # a guest: left out, as the rules say
    before = confluence_state(site.confluence)

    first = site.run(rules_file="entra.yaml")

    assert first.state == "success"
    after = confluence_state(site.confluence)
    desired = ldap_desired(rules_dir, EXAMPLE_LDIF)
    synced = desired.users[desired.users["active"]]
    assert {name: value for name, value in after["users"].items() if name != "admin"} == {
        row.username: (row.display_name, row.email, True) for row in synced.itertuples()
    }
    assert "gina" not in after["users"]
    assert after["groups"] == before["groups"] | set(desired.groups["name"])
    wanted = set(zip(desired.memberships["group"], desired.memberships["username"], strict=True))
    assert after["memberships"] == before["memberships"] | {
        (group, user) for group, user in wanted if user in set(synced["username"])
    }

    # a hire, a leaver, a rename, a group move and a removed nested group
    entra.directory.apply_ldif(CHANGES)
    entra.emulator.counters.clear()
    second = site.run(rules_file="entra.yaml")

    assert second.state == "success"
    assert entra.emulator.counters.as_json()["by_route"] == {
        "POST /{tenant}/oauth2/v2.0/token": 1,
        "GET /v1.0/users/delta": 1,
        "GET /v1.0/groups/delta": 1,
    }
    changed = tmp_path / "changed.ldif"
    changed.write_text(entra.directory.model.to_ldif(), encoding="utf-8")
    desired = ldap_desired(rules_dir, changed)
    now = confluence_state(site.confluence)
    active = {name for name, (_, _, on) in now["users"].items() if on and name != "admin"}
    assert active == set(desired.users.loc[desired.users["active"], "username"]) - {"gina"}
    assert {name for name, (_, _, on) in now["users"].items() if not on} == {"kbaker", "ckim"}
    done = operation_set(operations(site, second))
    assert {
        ("create_user", "nhire", None),
        ("create_user", "colin.kim", None),
        ("disable_user", "kbaker", None),
        ("disable_user", "ckim", None),
        ("add_membership", "mford", "eng-data"),  # team-sre keeps him: on-the-fly groups only add
    } <= done
    assert not any(target == "gina" for _, target, _ in done)

    # what the incremental run left is what a full read wants: a full run changes nothing
    site.confluence.emulator.counters.clear()
    third = site.run(rules_file="entra.yaml", full_read=True)
    assert third.state == "success"
    assert site.writes() == 0
    assert entra.emulator.counters.as_json()["by_route"]["GET /v1.0/users"] == 1
