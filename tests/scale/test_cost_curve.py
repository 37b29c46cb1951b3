"""Guards on the cost curve, at 5,000 and 10,000 users: what must stay linear does.

- A noop run sends Confluence one request per page of what it reads and nothing
  else: no request per user.
- Mapping and planning at twice the size cost under 2.5 times the CPU time (a
  quadratic step would cost four times): a ratio within one run, never seconds.
- Their memory grows with the directory and no faster: the peak per user at
  twice the size is within a quarter of the peak per user at the base size,
  and under a bound that keeps 100,000 users far below the 2 GiB a task may use.

The directory has the shape of the benchmark's company (20 users per group, 10
memberships per user), one in fifty users a service account left out of scope.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import requests

from bench.confluence_state import in_sync_state, snapshot_of
from confluence_provisioning.apply.applier import apply
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.plan.planner import plan
from sandbox.confluence import EmulatorServer
from tests.apply.site import FAST_RETRY, connect
from tests.mapping.idp import BASE, Idp, rules
from tests.mapping.test_scale import large_directory

USERS = 5_000
GROWTH = 2  # the second size is this many times the first
MAX_TIME_RATIO = 2.5  # at GROWTH times the size; linear is 2, quadratic 4
MAX_MEMORY_GROWTH = 1.25  # peak per user at the second size over the first
MAX_BYTES_PER_USER = 20_000  # map and plan together: 2 GB at 100,000 users would be 20 kB each
REPEATS = 3  # the fastest of three: another process taking the CPU only ever adds time
CHURN = 0.01
SETTINGS = rules(
    users={"include": {"dn_subtrees": [f"ou=people,{BASE}"]}},
    groups={
        "default_groups": {"all_users": ["confluence-users"]},
        "on_the_fly": {"enabled": True, "keep_existing_groups": False},
    },
    target={"kind": "confluence_data_center", "page_size": 1000},
)


@dataclass(frozen=True)
class Day:
    """Today's directory and the site as last night's run left it (for yesterday's directory)."""

    users: int
    today: Idp
    site: dict[str, Any]  # the emulator's state JSON

    @property
    def current(self) -> TargetSnapshot:
        return snapshot_of(self.site)


def company(users: int) -> Idp:
    return large_directory(users=users, groups=users // 20, memberships=users * 10)


def churned(idp: Idp, share: float) -> Idp:
    """``idp`` with ``share`` of its users gone (leavers) and ``share`` of the other memberships ended."""
    rng = np.random.default_rng(11)
    leavers = idp.users["id"].sample(frac=share, random_state=1)
    kept = ~idp.memberships["user_id"].isin(leavers) & (rng.random(len(idp.memberships)) >= share)
    return Idp(
        idp.users[~idp.users["id"].isin(leavers)].reset_index(drop=True),
        idp.groups,
        idp.memberships[kept].reset_index(drop=True),
    )


def day(users: int, churn: float) -> Day:
    yesterday = company(users)
    return Day(users, churned(yesterday, churn), in_sync_state(yesterday, SETTINGS))


@pytest.fixture(scope="module")
def noop_day() -> Day:
    return day(USERS, 0.0)


def map_and_plan(day: Day) -> Callable[[], int]:
    current = day.current

    def run() -> int:
        desired = map_rules(day.today, SETTINGS)
        return len(plan(desired, current, SETTINGS, allow_over_limits=True))

    return run


def cpu_seconds(work: Callable[[], int]) -> tuple[float, int]:
    """The fastest of REPEATS runs, in CPU time of this process (all its threads), and what it returned."""
    best, returned = math.inf, 0
    for _ in range(REPEATS):
        started = time.process_time()
        returned = work()
        best = min(best, time.process_time() - started)
    return best, returned


@contextmanager
def arrow_pool() -> Iterator[pa.MemoryPool]:
    """A fresh default Arrow pool for the block, so its ``max_memory()`` is the block's own peak."""
    previous = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(previous)
    pa.set_memory_pool(pool)
    try:
        yield pool
    finally:
        pa.set_memory_pool(previous)


def peak_bytes(work: Callable[[], int]) -> int:
    """Peak memory of one run: Python and NumPy objects (tracemalloc) plus Arrow buffers (pandas strings)."""
    tracemalloc.start()
    try:
        with arrow_pool() as pool:
            work()
        return tracemalloc.get_traced_memory()[1] + pool.max_memory()
    finally:
        tracemalloc.stop()


def pages(count: int, limit: int) -> int:
    """Requests to list ``count`` items ``limit`` at a time: an empty list still takes one."""
    return max(1, math.ceil(count / limit))


def test_a_noop_run_sends_one_request_per_page_and_nothing_else(
    noop_day: Day, confluence: EmulatorServer
) -> None:
    requests.put(f"{confluence.admin_url}/state", json=noop_day.site, timeout=60).raise_for_status()
    confluence.emulator.counters.clear()

    with connect(confluence, page_size=SETTINGS.target.page_size) as client:
        snapshot = client.snapshot()
        planned = plan(map_rules(noop_day.today, SETTINGS), snapshot, SETTINGS)
        result = apply(planned, client, SETTINGS, retry=FAST_RETRY)

    assert len(planned) == 0 and result.ok
    site, caps, page_size = noop_day.site, confluence.config.caps, SETTINGS.target.page_size
    expected = (
        pages(len(site["users"]), min(page_size, caps.users))
        + pages(len(site["groups"]), min(page_size, caps.groups))
        + sum(
            pages(len(site["memberships"].get(group, [])), min(page_size, caps.members))
            for group in site["groups"]
        )
    )
    assert len(site["users"]) > USERS * 0.9  # the site holds the directory: the count below is of pages
    assert confluence.emulator.counters.as_json()["by_method"] == {"GET": expected}


def test_map_and_plan_grow_linearly_in_time_and_memory() -> None:
    small, large = day(USERS, CHURN), day(USERS * GROWTH, CHURN)
    work = {size.users: map_and_plan(size) for size in (small, large)}

    measured = {users: cpu_seconds(run) for users, run in work.items()}
    per_user = {users: peak_bytes(run) / users for users, run in work.items()}

    operations = {users: count for users, (_, count) in measured.items()}
    assert all(count > users * CHURN for users, count in operations.items())  # a real plan, not a noop
    ratio = measured[large.users][0] / measured[small.users][0]
    assert ratio < MAX_TIME_RATIO, f"map and plan took {ratio:.2f} times as long at {GROWTH}x the users"
    assert per_user[large.users] < per_user[small.users] * MAX_MEMORY_GROWTH, per_user
    assert max(per_user.values()) < MAX_BYTES_PER_USER, per_user
