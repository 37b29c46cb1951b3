"""Each benchmark scenario at about 1,000 users, through the real CLI, so the harness never rots.

The full sizes run with ``make bench``; here the JSON line's shape, the checks
and the write counts are what matter, not the times. The floors (one fresh process
each, the suite's slowest part) run once, in churn, which has both read and write
floors; noop and initial measure the pipeline alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.results import FLOORS_OF, PHASES

REPOSITORY = Path(__file__).resolve().parents[2]
SMOKE_USERS = 1_000
# an initial sync writes every user and membership one request at a time: a smaller company
INITIAL_USERS = 300
NUMBER = (int, float)

pytestmark = pytest.mark.slow


def run_bench(tmp_path: Path, scenario: str, *extra: str, users: int = SMOKE_USERS) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scenario", scenario, "--users", str(users),
         "--out", str(tmp_path / "out"), *extra],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout[-3000:]
    return json.loads(lines[0])


def assert_shape(result: dict, scenario: str, *, floors: bool, users: int = SMOKE_USERS) -> None:
    assert result["scenario"] == scenario
    assert result["size"]["users"] == users
    assert result["size"]["groups"] > 0 and result["size"]["memberships"] > 0
    assert list(result["phases"]) == list(PHASES)
    assert all(isinstance(seconds, NUMBER) and seconds >= 0 for seconds in result["phases"].values())
    assert result["total_seconds"] == pytest.approx(sum(result["phases"].values()), abs=0.01)
    assert 50 * 1024**2 < result["peak_rss_bytes"] < 2 * 1024**3
    assert set(result["ratios"]) == {
        f"{phase}/{floor}" for phase, names in FLOORS_OF.items() for floor in names
    }
    reads = {"ldapsearch", "ldap3", "confluence_reads", "confluence_reads_requests"}
    if floors:
        assert reads <= set(result["floors"])
        assert set(result["cpu"]) >= set(PHASES) | reads
    else:
        assert result["floors"] == {}
        assert set(result["ratios"].values()) == {None}
        assert set(result["cpu"]) == set(PHASES)
    assert set(result["cpu"]["apply"]) == {"self", "emulator", "slapd"}
    assert result["http_requests"]["GET"] > 0
    assert result["checks"] == {"final_state_in_sync": True, "writes_equal_planned_operations": True}
    assert result["failed_operations"] == 0


def test_noop_sends_no_writes_at_all(tmp_path):
    result = run_bench(tmp_path, "noop", "--no-results", "--no-floors")
    assert_shape(result, "noop", floors=False)
    assert result["planned_operations"] == 0
    assert result["writes"] == 0
    assert set(result["http_requests"]) == {"GET"}


def test_churn_sends_exactly_the_planned_writes(tmp_path):
    result = run_bench(tmp_path, "churn", "--no-results")
    assert_shape(result, "churn", floors=True)
    plan = result["plan"]
    assert {"create_user", "update_user", "disable_user", "add_membership", "remove_membership"} <= set(plan)
    assert result["planned_operations"] == sum(plan.values())
    assert result["writes"] == result["planned_operations"]
    assert result["floors"]["confluence_writes"] > 0
    assert result["floors"]["confluence_writes_requests"] > 0


def test_initial_fills_an_empty_site_and_appends_a_table(tmp_path):
    results_file = tmp_path / "RESULTS.md"
    results_file.write_text("# Results\n", encoding="utf-8")
    result = run_bench(
        tmp_path, "initial", "--results", str(results_file), "--no-floors", users=INITIAL_USERS
    )
    assert_shape(result, "initial", floors=False, users=INITIAL_USERS)
    assert result["confluence_start"] == {"users": 1, "groups": 2, "memberships": 2}
    assert result["plan"]["create_user"] > 0.9 * INITIAL_USERS  # every active person
    assert result["writes"] == result["planned_operations"]
    table = results_file.read_text(encoding="utf-8").splitlines()
    assert table[0] == "# Results"
    assert any(
        line.startswith(f"- Command: `python -m bench.run --scenario initial --users {INITIAL_USERS} ")
        for line in table
    )
    rows = [line for line in table if line.startswith("| initial |")]
    assert len(rows) == 2  # the phases table and the per-user table


def test_the_entra_benchmark_reads_each_round_incrementally_and_times_the_captured_steps(tmp_path):
    """``bench.entra`` at 300 users, two rounds, the first captured; then ``bench.entra_steps`` on it."""
    size = ["--users", "300", "--groups", "20", "--memberships", "3000", "--token-rounds", "1"]
    capture = tmp_path / "captured"
    done = subprocess.run(
        [sys.executable, "-m", "bench.entra", *size, "--rounds", "2", "--capture", str(capture)],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]  # logs too
    by_round = {(line["measure"], line.get("round")): line for line in lines}
    for round_ in (0, 1):
        incremental, full = by_round["incremental_read", round_], by_round["full_read_after_churn", round_]
        assert 0 < incremental["requests"] < full["requests"]
        compared = by_round["incremental_equals_full", round_]
        assert compared["ok"] is True and set(compared["share_of_full"]) == {"seconds", "cpu", "client_cpu"}
    assert sorted(path.name for path in capture.iterdir()) == [
        "delta.pickle", "edges.arrow", "flat.arrow", "groups.arrow", "loose.arrow", "users.arrow",
    ]  # fmt: skip
    steps = subprocess.run(
        [sys.executable, "-m", "bench.entra_steps", str(capture), "--runs", "1"],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert steps.returncode == 0, steps.stderr[-3000:]
    run, summary = (json.loads(line) for line in steps.stdout.splitlines())
    assert list(summary["median_cpu_ms"]) == ["load", "from_state", "patch", "save", "frames"]
    assert all(run[step]["cpu_ms"] >= 0 and run[step]["faults"] >= 0 for step in summary["median_cpu_ms"])


def test_the_cloud_patch_benchmark_patches_drawn_groups_and_the_largest_and_prints_a_row_a_size(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.cloud_patch", "--users", "1000", "--groups", "4", "--batch", "3",
         "--out", str(tmp_path / "out")],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[0])
    assert (result["drawn"]["patches"], result["largest"]["patches"]) == (8, 2)  # each group: there and back
    assert result["largest"]["median_group_size"] > result["drawn"]["median_group_size"] > 0
    assert done.stdout.splitlines()[-1].startswith("| 1,000 | 4 (")
