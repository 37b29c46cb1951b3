"""The company generator: deterministic, shaped like a real directory, read back exactly by slapd."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from bench.churn import Churn, previous_day
from bench.company import CompanySize, generate_company
from bench.company_frames import idp_frames
from bench.confluence_state import in_sync_state, snapshot_of
from bench.dataset import RULES, SUFFIX, Dataset, Start
from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.plan.planner import plan
from confluence_provisioning.settings import load_settings
from confluence_provisioning.sources.ldap.connecting import LdapOptions, open_connection
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract

SMALL = CompanySize(users=2_000, groups=100, memberships=20_000)
SETTINGS = load_settings(RULES)


@pytest.fixture(scope="module")
def company():
    return generate_company(SMALL, seed=7, suffix=SUFFIX)


def test_the_same_seed_gives_the_same_files_and_another_seed_others(tmp_path):
    size = CompanySize(users=600, groups=30, memberships=6_000)
    first, again, other = (
        Dataset(size, seed, tmp_path / name) for seed, name in ((3, "a"), (3, "b"), (4, "c"))
    )
    for start in (Start.in_sync, Start.drifted):
        assert first.state(start).read_bytes() == again.state(start).read_bytes()
        assert first.state(start).read_bytes() != other.state(start).read_bytes()
    assert first.ldif.read_bytes() == again.ldif.read_bytes()
    assert first.ldif.read_bytes() != other.ldif.read_bytes()


def test_the_company_has_the_asked_size_skewed_groups_and_four_levels_of_nesting(company):
    assert len(company.people) == SMALL.users
    assert len(company.groups) == SMALL.groups
    memberships = len(idp_frames(company).memberships)
    assert 0.9 * SMALL.memberships < memberships < 1.1 * SMALL.memberships
    sizes = sorted((len(group.users) for group in company.groups if group.kind == "project"), reverse=True)
    assert sizes[0] >= 0.2 * SMALL.users  # a few very large groups...
    assert sizes[0] >= 10 * sizes[len(sizes) // 2]  # ...and most of them much smaller
    assert all(group.users or group.groups for group in company.groups)  # groupOfNames needs a member
    kinds = Counter(group.kind for group in company.groups)
    assert kinds == {"all-staff": 1, "division": 2, "department": 4, "team": 25, "project": 68}
    assert _depth(company, 0) == 4  # all-staff > division > department > team


def test_people_have_unique_valid_usernames_and_some_are_locked(company):
    uids = [person.uid for person in company.people]
    assert len(set(uids)) == len(uids)
    assert all(re.fullmatch(r"[a-z0-9.]+", uid) for uid in uids)
    locked = sum(person.locked for person in company.people)
    assert 0.01 * SMALL.users < locked < 0.06 * SMALL.users
    assert any(not person.display_name.isascii() for person in company.people)


def test_too_many_groups_for_the_users_is_refused_with_the_fix():
    with pytest.raises(ValueError) as raised:
        generate_company(CompanySize(users=20, groups=400, memberships=200), seed=1, suffix=SUFFIX)
    assert str(raised.value) == (
        "400 groups for 20 users leave no room for the layout (3 divisions, 16 departments, "
        "100 teams, all-staff and at least one project group, one person per team): ask for more users "
        "or groups"
    )


def test_the_extraction_of_the_ldif_gives_exactly_the_generated_frames(ldap_server, tmp_path):
    dataset = Dataset(CompanySize(users=500, groups=40, memberships=5_000), 5, tmp_path)
    server = ldap_server([dataset.ldif], suffix=SUFFIX)
    host, port = server.uri.split("://")[1].rsplit(":", 1)
    connection = open_connection(LdapOptions("bench", host, int(port), server.bind_dn, server.password))
    try:
        read = extract(connection, resolve_profile(SETTINGS.source))
    finally:
        connection.unbind()
    assert read.rejects.empty
    for name, keys in (("users", ["id"]), ("groups", ["id"]), ("memberships", ["group_id", "user_id"])):
        pd.testing.assert_frame_equal(
            _sorted(getattr(read, name), keys), _sorted(getattr(dataset.idp, name), keys)
        )


def test_a_day_earlier_undoes_exactly_the_days_changes(company):
    yesterday = previous_day(company, Churn(), seed=7)
    today_ids = {person.uuid for person in company.people}
    yesterday_ids = {person.uuid for person in yesterday.people}
    assert len(today_ids - yesterday_ids) == 10  # joined today: 0.5% of 2,000
    assert len(yesterday_ids - today_ids) == 10  # left today
    before = {person.uuid: person for person in yesterday.people}
    renamed = [
        p for p in company.people if p.uuid in before and before[p.uuid].display_name != p.display_name
    ]
    assert len(renamed) == 20  # 1%
    assert all(before[p.uuid].mail != p.mail for p in renamed)


def test_the_in_sync_state_plans_nothing_and_the_drifted_one_every_kind_of_change(company):
    today = idp_frames(company)
    desired = map_rules(today, SETTINGS)
    assert len(plan(desired, snapshot_of(in_sync_state(today, SETTINGS)), SETTINGS)) == 0

    yesterday = previous_day(company, Churn(), seed=7)
    drifted = in_sync_state(idp_frames(yesterday), SETTINGS)
    summary = plan(desired, snapshot_of(drifted), SETTINGS).summary()
    known = {person.uuid for person in yesterday.people}
    joiners = [person for person in company.people if person.uuid not in known]
    assert summary["create_user"] == sum(not person.locked for person in joiners)  # locked: never created
    assert summary["update_user"] > 0 and summary["disable_user"] > 0
    assert summary["add_membership"] > 0 and summary["remove_membership"] > 0
    assert summary["delete_user"] == summary["delete_group"] == summary["create_group"] == 0


def _depth(company, index: int) -> int:
    group = company.groups[index]
    return 1 + max((_depth(company, child) for child in group.groups), default=0)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True)


def test_the_cli_writes_the_directory_both_states_and_a_manifest(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.generate_directory", "--users", "600", "--groups", "30",
         "--memberships", "6000", "--seed", "3", "--out", str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == {
        "ldif": "directory.ldif",
        "in_sync": "confluence-in-sync.json",
        "drifted": "confluence-drifted.json",
    }
    assert manifest["directory"]["users"] == 600
    assert manifest["confluence"]["fresh"] == {"users": 1, "groups": 2, "memberships": 2}
    in_sync = json.loads((tmp_path / "confluence-in-sync.json").read_text(encoding="utf-8"))
    assert len(in_sync["users"]) == manifest["confluence"]["in_sync"]["users"]
    assert (tmp_path / "directory.ldif").read_text(encoding="ascii").startswith("dn: dc=corp,dc=example\n")


def test_a_size_too_small_for_the_layout_is_an_error_not_a_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.generate_directory", "--users", "20", "--groups", "400",
         "--out", str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: 400 groups for 20 users leave no room for the layout")
