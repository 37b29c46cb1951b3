"""Which benchmarks ``python -m bench.run --scenario`` runs, and at which size."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pandas as pd

from bench.cloud import in_sync_scim_state
from bench.company import CompanySize
from bench.dag_runs import cloud_requests, cloud_rules
from bench.dataset import Dataset, Start
from bench.scenarios import CHOICES, FULL, cloud_size, selected
from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.plan.planner import plan
from confluence_provisioning.targets.atlassian_cloud.client import ScimGroup, ScimUser
from confluence_provisioning.targets.atlassian_cloud.snapshot import to_snapshot


def test_the_cloud_benchmark_runs_alone_or_last_in_all_at_the_full_size_or_resized() -> None:
    assert "cloud" in CHOICES
    assert selected("cloud", None) == [] and cloud_size("cloud", None) == FULL
    assert cloud_size("cloud", 1_000) == CompanySize(1_000, 50, 10_000)
    assert cloud_size("all", None) == FULL and [s.name for s in selected("all", None)][-1] == "churn"
    assert cloud_size("noop", None) is None and cloud_size("scale", None) is None


def test_the_cloud_directories_made_by_a_first_run_of_today_and_yesterday_plan_nothing_and_the_churn(
    tmp_path: Path,
) -> None:
    """``bench.dag_runs --target cloud`` starts from them: a noop must match every account by its IdP
    id; churn starts from what a first run of yesterday's company (``churn.previous_day``) left."""
    dataset = Dataset(CompanySize(300, 15, 3_000), 1, tmp_path)
    dataset = Dataset(dataset.size, 1, tmp_path, rules=cloud_rules(dataset))
    desired = map_rules(dataset.idp, dataset.settings)
    planned = {}
    for start, company in ((Start.in_sync, dataset.company), (Start.drifted, dataset.yesterday)):
        state = in_sync_scim_state(dataset.idp_of(start), dataset.settings)
        users = msgspec.convert(state["Users"], list[ScimUser])
        current = to_snapshot(users, msgspec.convert(state["Groups"], list[ScimGroup]))
        active = [person.uuid for person in company.people if not person.locked]
        assert sorted(user.external_id or "" for user in users) == sorted(active)  # the entries' entryUUIDs
        planned[start] = plan(desired, current, dataset.settings, allow_over_limits=True).frame
    assert len(planned[Start.in_sync]) == 0
    kinds = set(planned[Start.drifted]["kind"])
    assert {"create_user", "disable_user", "add_membership", "remove_membership"} <= kinds, kinds


def test_the_cloud_requests_of_a_plan_count_a_group_split_across_two_chunks_in_each(tmp_path: Path) -> None:
    """Each apply chunk is a task of its own, so a group's additions in two chunks go in two PATCHes."""
    chunks = {
        "add_memberships-0001": [("create_user", None)] + [("add_membership", "G")] * 150,
        "add_memberships-0002": [("add_membership", "g")] * 30 + [("remove_membership", "G")] * 20,
    }
    for name, rows in chunks.items():
        pd.DataFrame(rows, columns=["kind", "group"]).to_parquet(tmp_path / f"{name}.parquet")
    uris = [f"file://{tmp_path}/{name}.parquet" for name in chunks]
    (tmp_path / "plan.json").write_text(json.dumps({"chunks": {"add_memberships": uris, "delete_users": []}}))
    assert cloud_requests(str(tmp_path / "plan.parquet")) == (1 + 2) + (1 + 1)
