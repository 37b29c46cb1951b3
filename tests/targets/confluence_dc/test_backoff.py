"""Retries really back off on a rate-limited site, where every answer carries ``Retry-After: 0``."""

from __future__ import annotations

import time

import pytest

from confluence_provisioning.apply.applier import apply_operations
from confluence_provisioning.apply.pacing import HEADROOM
from confluence_provisioning.plan.operations import Operation, OperationKind
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.confluence_dc import ConfluenceClient, RetryPolicy
from confluence_provisioning.targets.errors import TransientError
from sandbox.confluence import RateLimit
from tests.targets.confluence_dc.conftest import routes

# generous: the bucket never runs dry here, its headers only say Retry-After: 0 on every answer
OPEN_BUCKET = RateLimit(fill_rate=5, interval_seconds=1, burst=1000)
DEFAULT_BACKOFF = RetryPolicy()  # 6 attempts, 0.5 s doubling to 30 s


def test_5xx_answers_with_retry_after_0_are_retried_with_the_full_backoff(
    confluence, make_client, sleeps
) -> None:
    confluence.emulator.set_rate_limit(OPEN_BUCKET)
    confluence.emulator.set_faults([{"method": "GET", "path": "/rest/api/user/list", "error_rate": 1.0}])
    client = make_client(confluence, retry=DEFAULT_BACKOFF)

    with pytest.raises(TransientError) as raised:
        client.users()

    assert raised.value.attempts == 6
    assert routes(confluence) == {"GET /rest/api/user/list": 6}
    # each wait is at least half its backoff ceiling (0.5, 1, 2, 4, 8 s), never the header's 0
    assert len(sleeps) == 5
    for attempt, slept in enumerate(sleeps, start=1):
        ceiling = DEFAULT_BACKOFF.backoff_ceiling(attempt)
        assert ceiling / 2 <= slept <= ceiling
    assert sum(sleeps) >= 7.75


def test_a_429_with_retry_after_0_still_waits_a_pacing_interval(confluence) -> None:
    confluence.emulator.set_rate_limit(OPEN_BUCKET)
    # one 429 for the first membership PUT, whose Retry-After says 0
    confluence.emulator.set_faults(
        [{"method": "PUT", "burst_429": {"rate": 1.0, "length": 1, "retry_after": 0}, "limit": 1}]
    )
    confluence.directory.create_user("alice", "Alice", "alice@example.org", "pw")
    confluence.directory.create_group("eng")
    username, password = confluence.admin_auth
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    # a backoff far shorter than the pacing interval: only the gate can make the wait
    tiny_backoff = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001)
    with ConfluenceClient(confluence.base_url, username=username, password=password) as client:
        result = apply_operations(
            [Operation(OperationKind.add_membership, "alice", "eng")],
            client,
            Settings(),
            retry=tiny_backoff,
            sleep=sleep,
        )

    assert result.ok and list(result.results["attempts"]) == [2]
    assert routes(confluence) == {"PUT /rest/api/user/{username}/group/{groupName}": 2}
    interval = 1 / (HEADROOM * OPEN_BUCKET.fill_rate / OPEN_BUCKET.interval_seconds)
    # the gate paused everyone from the 429 on, for one interval at the stated rate (4.5 requests a
    # second); the pause is slept from when the retry came for its turn, a moment later
    assert sum(slept) >= interval * 0.9
    assert confluence.state["memberships"]["eng"] == ["alice"]
