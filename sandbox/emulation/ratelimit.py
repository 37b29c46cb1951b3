"""Per-caller token buckets, as Confluence Data Center's admin-configured rate limiting works.

Each caller (a user or a token; anonymous callers share one bucket) starts with `burst` tokens;
`fill_rate` tokens are added every `interval_seconds`, up to `burst`; every request takes one, and
a request that finds less than one token is refused with 429.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    fill_rate: int
    interval_seconds: int
    burst: int

    @classmethod
    def parse(cls, spec: str, burst: int | None = None) -> RateLimit:
        """`R/S` (R tokens every S seconds); the bucket holds `burst` tokens, R when not given."""
        try:
            rate, _, interval = spec.partition("/")
            limit = cls(int(rate), int(interval or 1), int(burst if burst is not None else rate))
        except ValueError as exc:
            raise ValueError(f"rate limit must look like R/S (e.g. 10/1), got {spec!r}") from exc
        limit.check()
        return limit

    def check(self) -> None:
        if self.fill_rate < 1 or self.interval_seconds < 1 or self.burst < 1:
            raise ValueError("rate limit fill rate, interval and burst must all be at least 1")

    def as_json(self) -> dict[str, int]:
        return {"fill_rate": self.fill_rate, "interval_seconds": self.interval_seconds, "burst": self.burst}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    headers: list[tuple[bytes, bytes]]


class RateLimiter:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._per_second = limit.fill_rate / limit.interval_seconds
        self._buckets: dict[str, tuple[float, float]] = {}  # user -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, user: str) -> Decision:
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(user, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - then) * self._per_second)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[user] = (tokens, now)
        retry_after = 0 if allowed else math.ceil((1.0 - tokens) / self._per_second)
        return Decision(allowed, self._headers(int(tokens), retry_after))

    def _headers(self, remaining: int, retry_after: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit.burst).encode()),
            (b"x-ratelimit-remaining", str(remaining).encode()),
            (b"x-ratelimit-interval-seconds", str(self.limit.interval_seconds).encode()),
            (b"x-ratelimit-fillrate", str(self.limit.fill_rate).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
