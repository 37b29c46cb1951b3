"""The pacing gate against a simulated token bucket on a fake clock: it settles just under the fill rate.

After one 429 when the bucket states its rate in headers, after two when the gate has to measure it.
"""

from __future__ import annotations

import math
import threading

import pytest

from confluence_provisioning.apply.pacing import PacingGate
from confluence_provisioning.targets.errors import RateLimitInfo, TransientError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


class Bucket:
    """Confluence's per-user token bucket: ``fill`` tokens a second, at most ``burst``.

    ``stated``: the fill rate its 429s' headers state (None: no headers), which is more than
    ``fill`` when another client of the same account takes the rest.
    """

    def __init__(self, clock: Clock, fill: float, burst: int, stated: float | None = None) -> None:
        self.clock, self.fill, self.burst = clock, fill, burst
        self.tokens, self.then = float(burst), 0.0
        self.refused = 0
        # stated per 10 s, as an admin may set it: the gate must divide
        self.rate_limit = None if stated is None else RateLimitInfo(stated * 10, 10)

    def request(self) -> int:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.then) * self.fill)
        self.then = now
        self.clock.sleep(0.002)  # the request's own latency
        if self.tokens < 1:
            self.refused += 1
            retry_after = math.ceil((1 - self.tokens) / self.fill)
            raise TransientError(
                "add member",
                "x",
                429,
                "Rate limit exceeded.",
                retry_after=retry_after,
                rate_limit=self.rate_limit,
            )
        self.tokens -= 1
        return 204


def send(gate: PacingGate, bucket: Bucket, count: int) -> int:
    """Send ``count`` requests one after the other through the gate; the number of 429s."""
    refused = 0
    while count:
        try:
            gate.call(bucket.request)
            count -= 1
        except TransientError:
            refused += 1
    return refused


@pytest.mark.parametrize(("fill", "burst"), [(10, 10), (50, 100), (200, 200)])
def test_after_two_429s_the_gate_paces_just_under_the_fill_rate(fill, burst):
    clock = Clock()
    gate = PacingGate(retry_after_cap=2, clock=clock, sleep=clock.sleep)
    # the first burst empties the bucket, the second measures it; then no more 429s
    assert send(gate, Bucket(clock, fill, burst), 1000) == 2
    assert gate.rate == pytest.approx(0.9 * fill, rel=0.05)


@pytest.mark.parametrize(("fill", "burst"), [(10, 10), (50, 100), (200, 200)])
def test_with_rate_limit_headers_one_429_is_enough(fill, burst):
    clock = Clock()
    gate = PacingGate(retry_after_cap=2, clock=clock, sleep=clock.sleep)
    assert send(gate, Bucket(clock, fill, burst, stated=fill), 1000) == 1
    assert gate.rate == pytest.approx(0.9 * fill)


def test_a_shared_bucket_falls_back_to_the_measured_share():
    clock = Clock()
    gate = PacingGate(retry_after_cap=2, clock=clock, sleep=clock.sleep)
    # the headers state 100/s, but another client of the account takes half of it
    assert send(gate, Bucket(clock, 50, 100, stated=100), 1000) == 2
    assert gate.rate == pytest.approx(0.9 * 50, rel=0.05)


def test_a_pause_longer_than_the_bucket_holds_gives_a_lower_rate_never_a_higher_one():
    clock = Clock()
    gate = PacingGate(retry_after_cap=2, clock=clock, sleep=clock.sleep)
    # Retry-After is 1 s, but the bucket holds only 0.1 s of tokens: the measure undercounts
    assert send(gate, Bucket(clock, 200, 20), 400) == 2
    assert gate.rate is not None and gate.rate < 0.9 * 200


def test_errors_other_than_429_do_not_pace():
    clock = Clock()
    gate = PacingGate(retry_after_cap=1, clock=clock, sleep=clock.sleep)

    def failing() -> int:
        raise TransientError("create user", "x", 503, "Service Unavailable", retry_after=5)

    for _ in range(3):
        with pytest.raises(TransientError):
            gate.call(failing)
    assert gate.rate is None
    assert clock.now == 0.0
