"""call_with_retry with a fake clock: only TransientError is retried, backoff, jitter, Retry-After, budget."""

from __future__ import annotations

import random

import pytest

from confluence_provisioning.settings import RetrySettings
from confluence_provisioning.targets.errors import (
    ConflictError,
    NotFoundError,
    TransientError,
    ValidationError,
)
from confluence_provisioning.targets.retry import RetryPolicy, call_with_retry


class FakeTime:
    """sleep() advances clock(); every wait is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def failing(errors: list[Exception], result: str = "ok"):
    """A function that raises the errors in turn, then returns result; calls are counted."""
    calls = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def transient(status: int | None = 503, retry_after: float | None = None) -> TransientError:
    return TransientError("list users", "", status, "Service Unavailable", retry_after=retry_after)


def test_success_first_time_reports_one_attempt() -> None:
    fake = FakeTime()
    assert call_with_retry(lambda: 42, RetryPolicy(), sleep=fake.sleep, clock=fake.clock) == (42, 1)
    assert fake.sleeps == []


def test_transient_errors_are_retried_and_attempts_counted() -> None:
    fake = FakeTime()
    fn = failing([transient(503), transient(None), transient(429)])
    result = call_with_retry(fn, RetryPolicy(), sleep=fake.sleep, clock=fake.clock)
    assert result == ("ok", 4)
    assert len(fake.sleeps) == 3


def test_backoff_grows_exponentially_up_to_max_delay() -> None:
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=7, base_delay=0.5, max_delay=4.0, budget_seconds=1000)
    fn = failing([transient() for _ in range(6)])
    call_with_retry(fn, policy, sleep=fake.sleep, clock=fake.clock, draw=lambda: 1.0)
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_equal_jitter_stays_within_half_the_ceiling_and_the_ceiling() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=8.0, budget_seconds=10_000)
    rng = random.Random(7)
    for attempt in range(1, 10):
        ceiling = min(8.0, 2 ** (attempt - 1))
        delays = [policy.delay(attempt, transient(), rng.random) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)  # always a real backoff
        assert max(delays) > ceiling * 0.9 and min(delays) < ceiling * 0.6  # spread over the range


def test_the_wait_is_the_longer_of_retry_after_and_the_backoff() -> None:
    fake = FakeTime()
    fn = failing(
        [transient(429, retry_after=7), transient(503, retry_after=0), transient(429, retry_after=0)]
    )
    call_with_retry(fn, RetryPolicy(base_delay=0.5), sleep=fake.sleep, clock=fake.clock, draw=lambda: 0.0)
    # Retry-After: 0 (sent on every answer while rate limiting is on) does not replace the backoff
    assert fake.sleeps == [7, 0.5, 1.0]


def test_retry_after_is_capped() -> None:
    fake = FakeTime()
    fn = failing([transient(429, retry_after=3600)])
    call_with_retry(fn, RetryPolicy(retry_after_cap=20), sleep=fake.sleep, clock=fake.clock)
    assert fake.sleeps == [20]


def test_gives_up_after_max_attempts_with_the_last_error_and_its_attempt_count() -> None:
    fake = FakeTime()
    errors = [transient(500), transient(502), transient(503)]
    fn = failing(errors)
    with pytest.raises(TransientError) as raised:
        call_with_retry(fn, RetryPolicy(max_attempts=3), sleep=fake.sleep, clock=fake.clock)
    assert raised.value is errors[2]
    assert raised.value.attempts == 3
    assert len(fn.calls) == 3
    assert len(fake.sleeps) == 2


def test_time_budget_stops_retrying_before_a_wait_that_would_overrun_it() -> None:
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=100, base_delay=1.0, max_delay=100, budget_seconds=10)
    fn = failing([transient() for _ in range(100)])
    with pytest.raises(TransientError) as raised:
        call_with_retry(fn, policy, sleep=fake.sleep, clock=fake.clock, draw=lambda: 1.0)
    # waits 1 + 2 + 4 = 7 s; the next (8 s) would end at 15 s, past the 10 s budget
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert raised.value.attempts == 4


def test_budget_counts_time_spent_in_the_calls_too() -> None:
    fake = FakeTime()

    def slow_failure() -> None:
        fake.now += 6  # a call that timed out after 6 s
        raise transient(None)

    with pytest.raises(TransientError) as raised:
        call_with_retry(
            slow_failure, RetryPolicy(budget_seconds=10), sleep=fake.sleep, clock=fake.clock, draw=lambda: 1.0
        )
    assert raised.value.attempts == 2  # 6 s + 0.5 s wait + 6 s = 12.5 s: no third try


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("create user", "alice", 400, "The email should be a valid email address"),
        NotFoundError("disable user", "bob", 404, "No user found with username: bob"),
        ConflictError("create group", "eng", 409, "Group already exists: eng"),
    ],
)
def test_client_errors_are_never_retried(error: Exception) -> None:
    fake = FakeTime()
    fn = failing([error])
    with pytest.raises(type(error)) as raised:
        call_with_retry(fn, RetryPolicy(), sleep=fake.sleep, clock=fake.clock)
    assert raised.value.attempts == 1
    assert len(fn.calls) == 1
    assert fake.sleeps == []


def test_a_client_error_after_retries_carries_the_attempt_count() -> None:
    fake = FakeTime()
    fn = failing([transient(503), ConflictError("create user", "alice", 409, "User already exists")])
    with pytest.raises(ConflictError) as raised:
        call_with_retry(fn, RetryPolicy(), sleep=fake.sleep, clock=fake.clock)
    assert raised.value.attempts == 2


def test_on_retry_hears_each_retry_before_the_wait() -> None:
    fake = FakeTime()
    heard: list[tuple[int | None, int, float]] = []
    fn = failing([transient(503), transient(429, retry_after=2)])
    call_with_retry(
        fn,
        RetryPolicy(),
        sleep=fake.sleep,
        clock=fake.clock,
        draw=lambda: 1.0,
        on_retry=lambda error, attempt, delay: heard.append((error.status, attempt, delay)),
    )
    assert heard == [(503, 1, 0.5), (429, 2, 2)]


def test_policy_from_settings() -> None:
    settings = RetrySettings(
        max_attempts=3,
        base_delay_seconds=0.1,
        max_delay_seconds=5,
        budget_seconds=60,
        retry_after_cap_seconds=30,
    )
    assert RetryPolicy.from_settings(settings) == RetryPolicy(3, 0.1, 5, 60, 30)


def test_defaults_match_the_settings_defaults() -> None:
    assert RetryPolicy.from_settings(RetrySettings()) == RetryPolicy()


def test_a_huge_attempt_number_does_not_overflow() -> None:
    assert RetryPolicy(max_delay=30).backoff_ceiling(5000) == 30
