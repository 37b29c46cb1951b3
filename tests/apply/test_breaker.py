"""The circuit breaker on a fake clock: which answers open it, which keep it closed; once open it stays so."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from confluence_provisioning.apply.breaker import CircuitBreaker, ConfluenceUnavailable
from confluence_provisioning.targets.errors import NotFoundError, TransientError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def down(status: int | None = None) -> TransientError:
    return TransientError("add member", "alice in eng", status, "connection failed: refused")


def answer(error: Exception | None = None) -> Callable[[], int]:
    def send() -> int:
        if error is not None:
            raise error
        return 204

    return send


def fail(breaker: CircuitBreaker, error: Exception) -> None:
    with pytest.raises(type(error)):
        breaker.call(answer(error))


def test_it_opens_after_the_consecutive_failures_and_then_sends_nothing() -> None:
    breaker = CircuitBreaker(consecutive_failures=3, no_success_seconds=60, clock=Clock())
    fail(breaker, down())
    fail(breaker, down(503))
    assert not breaker.open
    fail(breaker, down(500))

    assert breaker.reason == (
        "Confluence unavailable: 3 connection errors or 5xx answers in a row "
        "(the last: add member 'alice in eng': HTTP 500: connection failed: refused)"
    )
    sent = []
    with pytest.raises(ConfluenceUnavailable):
        breaker.call(lambda: sent.append(1))
    assert sent == []


@pytest.mark.parametrize(
    "alive",
    [None, down(429), NotFoundError("add member", "x", 404, "No user")],
    ids=["success", "429", "404"],
)
def test_any_answer_but_a_5xx_ends_the_run_of_failures(alive: Exception | None) -> None:
    breaker = CircuitBreaker(consecutive_failures=3, no_success_seconds=60, clock=Clock())
    fail(breaker, down())
    fail(breaker, down())
    if alive is None:
        breaker.call(answer())
    else:
        fail(breaker, alive)
    fail(breaker, down())
    fail(breaker, down())

    assert not breaker.open


def test_it_opens_when_nothing_succeeded_for_the_window_however_few_failures() -> None:
    clock = Clock()
    breaker = CircuitBreaker(consecutive_failures=20, no_success_seconds=60, clock=clock)
    breaker.call(answer())
    clock.now = 59.0
    fail(breaker, down())  # a request that hung until its timeout
    assert not breaker.open
    clock.now = 61.0
    fail(breaker, down())

    assert breaker.reason is not None
    assert breaker.reason.startswith("Confluence unavailable: no request succeeded for 61 s (the last: ")


def test_a_wait_between_attempts_ends_when_it_opens() -> None:
    breaker = CircuitBreaker(consecutive_failures=1, no_success_seconds=60)
    waited: list[float] = []

    def wait() -> None:
        started = time.monotonic()
        breaker.wait(30)
        waited.append(time.monotonic() - started)

    waiter = threading.Thread(target=wait)
    waiter.start()
    fail(breaker, down())
    waiter.join(timeout=10)

    assert not waiter.is_alive() and waited[0] < 10
