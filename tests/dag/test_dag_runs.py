"""Whole DAG runs (``dag.test()``) against the sandbox slapd and the Confluence emulator."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from confluence_provisioning import frames, storage
from confluence_provisioning.mapping.stage import MappingResult, map_rules
from confluence_provisioning.settings import load_settings
from confluence_provisioning.sources.ldap.reading import read_directory
from sandbox.confluence import EmulatorServer
from sandbox.directories.make_example import EXAMPLE_LDIF
from tests.dag.conftest import DAG_ID, Site, ldap_connection
from tests.sources.ldap.hostile import RAW, RLO, hostile_ldif

Operation = tuple[str, str, str | None]


def desired_state(rules_dir: Path) -> tuple[MappingResult, pd.DataFrame]:
    """What the rules make of the sandbox directory, worked out apart from the DAG, and the rejects."""
    settings = load_settings(rules_dir / "default.yaml")
    directory = read_directory(settings.source)
    result = map_rules(directory, settings)
    rejects = pd.concat([directory.rejects, result.rejects], ignore_index=True)
    return result, frames.conform(rejects, frames.REJECTS)


def confluence_state(server: EmulatorServer) -> dict[str, Any]:
    """Users (name -> display name, email, active), groups and memberships (group, user) of the site."""
    state = server.state
    return {
        "users": {u["username"]: (u["displayName"], u["email"], u["active"]) for u in state["users"]},
        "groups": set(state["groups"]),
        "memberships": {(group, user) for group, users in state["memberships"].items() for user in users},
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> set[Operation]:
    """The operations that turn ``before`` into ``after`` (creations and additions only)."""
    return (
        {("create_group", group, None) for group in after["groups"] - before["groups"]}
        | {("create_user", user, None) for user in after["users"].keys() - before["users"].keys()}
        | {("add_membership", user, group) for group, user in after["memberships"] - before["memberships"]}
    )


def operations(site: Site, dag_run: Any) -> pd.DataFrame:
    with site.audit() as store:
        return store.operations(site.record(dag_run).id)


def operation_set(frame: pd.DataFrame) -> set[Operation]:
    return {
        (kind, target, None if pd.isna(group) else group)
        for kind, target, group in frame[["operation", "target", "group"]].itertuples(index=False)
    }


def task_states(dag_run: Any) -> dict[str, tuple[str | None, int]]:
    """task id -> (state, try number), mapped tasks by their first instance."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            sa.select(TaskInstance.task_id, TaskInstance.state, TaskInstance.try_number)
            .where(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == dag_run.run_id)
            .order_by(TaskInstance.map_index)
        ).all()
    states: dict[str, tuple[str | None, int]] = {}
    for task_id, state, try_number in rows:
        states.setdefault(task_id, (None if state is None else str(state), try_number))
    return states


def asset_events(dag_run: Any) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return list(
            session.scalars(
                sa.select(AssetEvent.extra)
                .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
                .where(AssetModel.name == "confluence_directory", AssetEvent.source_run_id == dag_run.run_id)
            )
        )


def report_files(site: Site, dag_run: Any) -> tuple[str, str, dict[str, Any]]:
    """The HTML, the CSV and the JSON summary the run wrote beside each other."""
    html_uri = site.record(dag_run).report_uri
    folder = html_uri.removesuffix("report.html")
    return (
        storage.read_text(html_uri),
        storage.read_text(folder + "operations.csv"),
        json.loads(storage.read_text(folder + "summary.json")),
    )


def assert_stopped_in_plan(site: Site, dag_run: Any, before: dict[str, Any]) -> None:
    """The run failed in plan, which is never retried, and nothing reached Confluence."""
    assert dag_run.state == "failed"
    states = task_states(dag_run)
    assert states["plan"] == ("failed", 1)
    assert states["apply.create_groups"][0] == "upstream_failed"
    assert site.writes() == 0 and confluence_state(site.confluence) == before


def statuses(counts: dict[str, dict[str, int]]) -> set[str]:
    return {status for by_status in counts.values() for status in by_status}


def names(values: Iterable[str]) -> list[str]:
    return sorted(values)


def test_a_full_sync_reaches_the_desired_state_and_a_second_run_changes_nothing(
    site: Site, rules_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desired, rejects = desired_state(rules_dir)
    before = confluence_state(site.confluence)

    first = site.run()

    assert first.state == "success"
    after = confluence_state(site.confluence)
    synced = desired.users[desired.users["active"]]
    assert {name: value for name, value in after["users"].items() if name != "admin"} == {
        row.username: (row.display_name, row.email, True) for row in synced.itertuples()
    }
    assert after["groups"] == before["groups"] | set(desired.groups["name"])
    wanted = set(zip(desired.memberships["group"], desired.memberships["username"], strict=True))
    assert after["memberships"] == before["memberships"] | {
        (group, user) for group, user in wanted if user in set(synced["username"])
    }
    # the history holds exactly what changed, and why some entries were left out
    record = site.record(first)
    done = operations(site, first)
    assert operation_set(done) == changes(before, after)
    assert set(done["status"]) == {"applied"} and record.status == "success" and record.error is None
    assert record.counts == {
        kind: {"applied": int(count)} for kind, count in done["operation"].value_counts().sort_index().items()
    }
    with site.audit() as store:
        recorded_rejects = store.rejects(record.id)
        assert set(store.ledger()["username"]) == set(synced["username"])
        assert store.managed_groups() == after["groups"] - before["groups"]
    by_all = list(frames.REJECTS)
    pd.testing.assert_frame_equal(
        recorded_rejects.sort_values(by_all, ignore_index=True),
        rejects.sort_values(by_all, ignore_index=True),
    )
    # the report says the same
    html, csv, summary = report_files(site, first)
    assert (summary["status"], summary["operations"], summary["by_status"], summary["rejects"]) == (
        "success",
        len(done),
        {"applied": len(done)},
        len(rejects),
    )
    assert f"<tr><th>Operations</th><td>{len(done)} ({len(done)} applied)</td></tr>" in html
    assert f"<h2>Rejected entries ({len(rejects)})</h2>" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # a hostile login, escaped
    assert len(csv.splitlines()) == len(done) + 1
    # no secret in the logs or the report
    password = json.loads(os.environ["AIRFLOW_CONN_LDAP_DEFAULT"])["password"]
    assert all(password not in text for text in (caplog.text, html, csv, json.dumps(summary)))
    assert asset_events(first) == [
        {"dag_run_id": first.run_id, "rules_file": "default.yaml", "by_status": {"applied": len(done)}}
    ]

    site.confluence.emulator.counters.clear()
    second = site.run()

    assert second.state == "success"
    assert site.writes() == 0
    assert confluence_state(site.confluence) == after
    assert site.record(second).counts == {}
    assert report_files(site, second)[2]["operations"] == 0


def test_ldap_down_fails_the_run_in_extract_before_any_write(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_LDAP_DEFAULT",
        json.dumps({"conn_type": "ldap", "host": "127.0.0.1", "port": 9, "login": "cn=x"}),
    )
    before = confluence_state(site.confluence)

    dag_run = site.run()

    assert dag_run.state == "failed"
    states = task_states(dag_run)
    assert states["extract_source"] == ("failed", 2)  # retried once, as the rules say
    assert states["extract_target"][0] == "success"
    assert {states[task][0] for task in ("map_rules", "plan", "apply.create_groups", "publish")} == {
        "upstream_failed"
    }
    assert states["report"][0] == "failed"  # it ran, recorded the run, and failed it
    assert site.writes() == 0 and confluence_state(site.confluence) == before
    record = site.record(dag_run)
    assert (record.status, record.counts) == ("failed", {})
    assert record.error.startswith("extract_source: ")
    assert "127.0.0.1" in record.error
    html, _, summary = report_files(site, dag_run)
    assert summary["operations"] == 0
    assert "The run stopped before a plan was made: nothing was applied." in html


def test_a_broken_guard_stops_the_plan_and_allow_over_limits_lets_it_pass(site: Site) -> None:
    leavers = [f"leaver{number:02d}" for number in range(20)]
    for name in leavers:
        site.confluence.directory.create_user(name, name.title(), f"{name}@example.com", "password")
    before = confluence_state(site.confluence)

    stopped = site.run()

    assert_stopped_in_plan(site, stopped, before)
    record = site.record(stopped)
    assert record.error.startswith(
        "plan: the plan breaks 1 safety guard; nothing was applied:\n"
        "- 20 users would be disabled or deleted, 100.0% of 20 Confluence users; "
        "limits.max_users_disabled_or_deleted_percent is 5%: leaver00, leaver01"
    )
    assert record.error.endswith("trigger the DAG once with the param allow_over_limits=true")
    html, _, _ = report_files(site, stopped)
    assert "20 users would be disabled or deleted" in html

    passed = site.run(allow_over_limits=True)

    assert passed.state == "success"
    users = confluence_state(site.confluence)["users"]
    assert [name for name in leavers if users[name][2]] == []
    assert site.record(passed).counts["disable_user"] == {"applied": 20}


def test_a_dry_run_writes_nothing_and_reports_what_it_would_do(site: Site) -> None:
    before = confluence_state(site.confluence)

    dag_run = site.run(dry_run=True)

    assert dag_run.state == "success"
    assert site.writes() == 0 and confluence_state(site.confluence) == before
    record = site.record(dag_run)
    would = record.total()
    assert record.dry_run and would > 0 and statuses(record.counts) == {"skipped-dry-run"}
    html, _, summary = report_files(site, dag_run)
    assert summary["by_status"] == {"skipped-dry-run": would}
    assert f"<h2>Changes that would have been made ({would})</h2>" in html
    assert task_states(dag_run)["publish"][0] == "skipped" and asset_events(dag_run) == []
    with site.audit() as store:
        assert store.ledger().empty and store.managed_groups() == frozenset()


def test_only_users_changes_just_those_users_and_their_memberships(site: Site, rules_dir: Path) -> None:
    desired, _ = desired_state(rules_dir)
    chosen = {"afischer", "pmartin"}
    before = confluence_state(site.confluence)

    dag_run = site.run(only_users=["afischer", "PMartin"])

    assert dag_run.state == "success"
    after = confluence_state(site.confluence)
    assert after["users"].keys() - before["users"].keys() == chosen
    theirs = desired.memberships[desired.memberships["username"].isin(chosen)]
    assert after["memberships"] - before["memberships"] == set(
        zip(theirs["group"], theirs["username"], strict=True)
    )
    assert after["groups"] - before["groups"] == set(theirs["group"]) - before["groups"]
    assert operation_set(operations(site, dag_run)) == changes(before, after)


def test_failed_operations_do_not_stop_the_others_but_fail_the_run(site: Site) -> None:
    site.confluence.emulator.set_faults(
        [{"method": "PUT", "path": "/rest/api/user/afischer/group/*", "error_rate": 1.0, "statuses": [400]}]
    )

    dag_run = site.run()

    assert dag_run.state == "failed"
    states = task_states(dag_run)
    assert (states["apply.add_memberships"][0], states["report"][0], states["publish"][0]) == (
        "success",
        "failed",
        "upstream_failed",
    )
    done = operations(site, dag_run)
    failed = done[done["status"] == "failed"]
    assert set(failed["target"]) == {"afischer"} and set(failed["operation"]) == {"add_membership"}
    assert set(done.loc[done["target"] != "afischer", "status"]) == {"applied"}
    record = site.record(dag_run)
    assert record.status == "failed"
    assert record.error.startswith(f"{len(failed)} operations failed: add membership afischer -> ")
    assert "afischer" in confluence_state(site.confluence)["users"]
    html, _, _ = report_files(site, dag_run)
    assert f"<h2>Failures ({len(failed)})</h2>" in html


def test_pruned_groups_end_with_exactly_their_mapped_members_and_disabled_users_are_reported(
    site: Site, rules_dir: Path
) -> None:
    # default.yaml: engineering is pruned (keep_existing_members: false) from engineering and qa;
    # sales (on-the-fly, keep_existing_groups: true) only gains members
    desired, _ = desired_state(rules_dir)
    directory = site.confluence.directory
    for group in ("engineering", "sales"):
        directory.create_group(group)
    for name, active in (("epark", True), ("leaver", True), ("oldie", False), ("vpsales", True)):
        directory.create_user(name, name.title(), f"{name}@example.com", "password")
        directory.set_active(name, active)
        directory.add_member(name, "engineering")
    directory.add_member("leaver", "sales")

    dag_run = site.run(allow_over_limits=True)  # 2 of 4 accounts disabled is over the 5% guard

    assert dag_run.state == "success"
    after = confluence_state(site.confluence)
    users = desired.users.set_index("username")["active"]
    mapped = set(desired.memberships.loc[desired.memberships["group"] == "engineering", "username"])
    # epark is locked in the directory but still in team-sre: he stays, as a disabled account;
    # the leaver (no entry), oldie (disabled before, out of scope) and vpsales (synced, in no
    # mapped group) leave engineering; the leaver keeps sales, which only gains members
    assert {user for group, user in after["memberships"] if group == "engineering"} == {
        name for name in mapped if users[name]
    } | {"epark"}
    assert ("sales", "leaver") in after["memberships"]
    assert [after["users"][name][2] for name in ("epark", "leaver", "oldie")] == [False, False, False]
    done = operations(site, dag_run)
    removals = done[done["operation"] == "remove_membership"]
    assert sorted(zip(removals["target"], removals["group"], strict=True)) == [
        ("leaver", "engineering"),
        ("oldie", "engineering"),
        ("vpsales", "engineering"),
    ]
    assert set(removals["status"]) == {"applied"}
    # locked directory users without an account are not created, and each is reported
    locked = sorted(name for name, active in users.items() if not active and name != "epark")
    assert locked and not set(locked) & after["users"].keys()
    html, _, summary = report_files(site, dag_run)
    created = len(done[done["operation"] == "create_user"])
    assert summary["users"] == {
        "desired": len(users),
        "existing": 2,  # epark and vpsales
        "created": created,
        "not_created": len(locked),
    }
    assert summary["users"]["desired"] == created + 2 + len(locked)
    assert summary["not_created"] == [
        {"username": name, "reason": "not created: disabled in the directory"} for name in locked
    ]
    assert f"<h2>Users not created ({len(locked)})</h2>" in html
    assert f"{len(locked)} users not created: disabled in the directory: {', '.join(locked)}" in html


def test_hostile_names_do_not_fail_the_run_and_the_task_logs_show_them_escaped(
    site: Site,
    ldap_server: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a group named with a newline used to fail every nightly run; now it is a reject
    hostile = ldap_server([EXAMPLE_LDIF, hostile_ldif(tmp_path)])
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_DEFAULT", ldap_connection(hostile))
    site.confluence.directory.create_user(RLO, "Spoofed admin", "rlo@example.com", "password")

    dag_run = site.run()

    assert dag_run.state == "success"
    after = confluence_state(site.confluence)
    assert not any(raw in name for raw in RAW for name in [*after["groups"], *after["users"]] if name != RLO)
    assert after["users"][RLO] == ("Spoofed admin", "rlo@example.com", True)  # held: left as it is
    with site.audit() as store:
        reasons = set(store.rejects(site.record(dag_run).id)["reason"])
    assert "its Confluence group name 'ops\\nteam' contains control characters (U+000A)" in reasons
    # the plan's note names the held account, escaped in the log and in the report
    held = (
        "held 1 Confluence users the rules could not map, left as they are "
        "(no update, disable, delete or membership change; see the rejects): admin\\u202egpj ("
    )
    assert held in caplog.text
    assert not any(raw in caplog.text for raw in RAW)
    html, _, _ = report_files(site, dag_run)
    assert "admin\\u202egpj" in html and not any(raw in html for raw in RAW)
