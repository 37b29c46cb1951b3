"""A pacing gate shared by every worker of a run, so one 429 slows everybody down.

Confluence's rate limit is a token bucket per user: ``fill_rate`` tokens every
``interval_seconds``, each request takes one, an empty bucket answers 429 with
Retry-After. The gate:

- pauses every worker until Retry-After (capped) has passed when a 429 arrives, and
  for at least one pacing interval: Confluence sends ``Retry-After: 0`` while the bucket
  has tokens, and a 429 carrying it still means "slower";
- spaces request starts at a little under the server's fill rate, as the 429's
  ``X-RateLimit-FillRate`` / ``X-RateLimit-Interval-Seconds`` state it (the client
  passes them on as ``TransientError.rate_limit``), from the first 429 on;
- without those headers, from the second 429 on, at the fill rate measured: when two
  429s arrive the bucket was empty both times, so the requests it accepted in between,
  divided by the time between, is its fill rate.

A 429 while paced at the stated rate means something else draws on the same bucket
(another task of the run, another tool with the same account): the headers state the
whole bucket's rate, so the slower of the stated and the measured rate wins.

Before the first 429 nothing is paced. 429s from requests sent before the last
adjustment belong to the same burst and are not counted again. When the pause outlasts
what the bucket holds (a burst smaller than Retry-After's worth of tokens) the refill
is cut off and the measure comes out low: the run is slower, never over the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from confluence_provisioning.targets.errors import ConfluenceError, TransientError

T = TypeVar("T")

HEADROOM = 0.9  # pace at 90% of the fill rate: timing noise must not empty the bucket


class PacingGate:
    def __init__(
        self,
        *,
        retry_after_cap: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._retry_after_cap = retry_after_cap
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._interval = 0.0  # seconds between request starts; 0: unpaced
        self._next_start = 0.0
        self._paused_until = 0.0
        self._last_429: float | None = None  # when the last burst of 429s began
        self._accepted = 0  # answers other than 429 since then

    @property
    def rate(self) -> float | None:
        """Requests per second the gate lets through, None while unpaced."""
        with self._lock:
            return 1 / self._interval if self._interval else None

    def call(self, send: Callable[[], T]) -> T:
        """``send()`` once its turn comes; its answer (or error) tunes the pace."""
        started = self._wait_turn()
        try:
            result = send()
        except TransientError as error:
            self._heard(started, error)
            raise
        except ConfluenceError:
            self._heard(started, None)
            raise
        self._heard(started, None)
        return result

    def _wait_turn(self) -> float:
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start, self._paused_until)
            self._next_start = start + self._interval
        if start > now:
            self._sleep(start - now)
        with self._lock:  # a 429 may have paused everyone while this worker waited its turn
            pause = self._paused_until - self._clock()
        if pause > 0:
            self._sleep(pause)
        return self._clock()

    def _heard(self, started: float, error: TransientError | None) -> None:
        with self._lock:
            if error is None or error.status != 429:
                self._accepted += 1
                return
            if self._last_429 is not None and started < self._last_429:
                return  # sent before the last adjustment: same burst
            now = self._clock()
            rates = [] if error.rate_limit is None else [error.rate_limit.per_second]
            if self._last_429 is not None and self._accepted and now > self._last_429:
                rates.append(self._accepted / (now - self._last_429))
            if rates:  # the slower wins: the headers state the whole bucket, which others may share
                self._interval = 1 / (HEADROOM * min(rates))
            self._last_429 = now
            self._accepted = 0
            pause = max(min(error.retry_after or 0.0, self._retry_after_cap), self._interval)
            self._paused_until = max(self._paused_until, now + pause)
            self._next_start = max(self._next_start, self._paused_until)
