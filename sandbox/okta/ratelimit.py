"""Okta's rate limits: a budget of requests per endpoint per window, reported on every response.

Each endpoint (the route template, e.g. `/api/v1/users`) has its own counter that allows `limit`
requests in each window of `window_seconds` (Okta's windows are one minute) and starts afresh at
the window's end. Every answer carries `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and
`X-Rate-Limit-Reset` (the window's end, UTC epoch seconds); a request over the budget gets 429 with
error code E0000047. Without a configured limit the headers report a budget no test exhausts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate

from sandbox.emulation.ratelimit import Decision

UNLIMITED = 1_000_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit: int
    window_seconds: int = 60

    @classmethod
    def parse(cls, spec: str) -> RateLimit:
        """`N/S`: N requests per endpoint every S seconds (`600/60` is Okta's users budget)."""
        try:
            limit, _, window = spec.partition("/")
            parsed = cls(int(limit), int(window or 60))
        except ValueError as exc:
            raise ValueError(f"rate limit must look like N/S (e.g. 600/60), got {spec!r}") from exc
        if parsed.limit < 1 or parsed.window_seconds < 1:
            raise ValueError("rate limit and window must both be at least 1")
        return parsed

    def as_json(self) -> dict[str, int]:
        return {"limit": self.limit, "window_seconds": self.window_seconds}


class EndpointRateLimiter:
    def __init__(self, limit: RateLimit | None, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._effective = limit or RateLimit(UNLIMITED)
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}  # endpoint -> (window end, requests in it)
        self._lock = threading.Lock()

    def take(self, endpoint: str) -> Decision:
        limit = self._effective
        now = self._clock()
        with self._lock:
            end, used = self._windows.get(endpoint, (0, 0))
            if now >= end:
                end = (math.floor(now / limit.window_seconds) + 1) * limit.window_seconds
                used = 0
            allowed = used < limit.limit
            if allowed:
                used += 1
            self._windows[endpoint] = (end, used)
        # The answer's Date rides along: uvicorn's own (off in this emulator) is a second stale,
        # and a client reads the reset, and Okta's clock, from it.
        date = (b"date", formatdate(now, usegmt=True).encode())
        return Decision(allowed, [*headers(limit.limit, limit.limit - used, end), date])


def headers(limit: int, remaining: int, reset: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-rate-limit-limit", str(limit).encode()),
        (b"x-rate-limit-remaining", str(max(remaining, 0)).encode()),
        (b"x-rate-limit-reset", str(reset).encode()),
    ]
