"""Retry policy shared by reads and writes: only transient errors, jittered backoff, Retry-After honoured.

Equal jitter (a delay drawn from [c/2, c], c = base * 2**(n-1) capped at
``max_delay``) spreads the retries of many threads apart instead of having them
hit a recovering server together, and still really backs off: full jitter
([0, c]) can draw next to nothing several times in a row.

The wait is the larger of the server's Retry-After (capped at
``retry_after_cap``) and that backoff: Confluence sends ``Retry-After: 0`` on
every answer while rate limiting is on, and a 0 must not turn five 5xx retries
into one second of hammering. Attempts and a wall-clock budget bound the loop.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from confluence_provisioning.settings import RetrySettings
from confluence_provisioning.targets.errors import ConfluenceError, TransientError

T = TypeVar("T")

# on_retry(error, attempt_that_failed, delay_before_next_attempt)
OnRetry = Callable[[TransientError, int, float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    budget_seconds: float = 600.0
    retry_after_cap: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if min(self.base_delay, self.max_delay, self.budget_seconds, self.retry_after_cap) < 0:
            raise ValueError("retry delays, budget and Retry-After cap must not be negative")

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            base_delay=settings.base_delay_seconds,
            max_delay=settings.max_delay_seconds,
            budget_seconds=settings.budget_seconds,
            retry_after_cap=settings.retry_after_cap_seconds,
        )

    def backoff_ceiling(self, attempt: int) -> float:
        """The largest delay after the ``attempt``-th failure (1-based), before jitter."""
        # min() before the power would overflow: 2**1100 is not a float
        return min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 64))

    def delay(self, attempt: int, error: TransientError, draw: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failure ``attempt``: the longer of Retry-After (capped) and the backoff."""
        ceiling = self.backoff_ceiling(attempt)
        backoff = ceiling / 2 + ceiling / 2 * draw()
        if error.retry_after is None:
            return backoff
        return max(min(error.retry_after, self.retry_after_cap), backoff)


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: OnRetry | None = None,
    clock: Callable[[], float] = time.monotonic,
    draw: Callable[[], float] = random.random,
) -> tuple[T, int]:
    """``(fn(), attempts)``, retrying ``TransientError`` only.

    Gives up when the attempts run out or the next wait would end past the
    budget, re-raising the last error with ``error.attempts`` set; any other
    ``ConfluenceError`` is raised at once, also with its attempt count.
    """
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except TransientError as error:
            error.attempts = attempt
            if attempt >= policy.max_attempts:
                raise
            wait = policy.delay(attempt, error, draw)
            if clock() - started + wait > policy.budget_seconds:
                raise
            if on_retry is not None:
                on_retry(error, attempt, wait)
            sleep(wait)
        except ConfluenceError as error:
            error.attempts = attempt
            raise
