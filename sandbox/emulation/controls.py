"""The run-time knobs every emulator has: request counters, fault rules and a rate limit."""

from __future__ import annotations

from typing import Any

from sandbox.emulation.counters import RequestCounters
from sandbox.emulation.faults import FaultInjector, parse_spec
from sandbox.emulation.persistence import Snapshotted
from sandbox.emulation.ratelimit import RateLimit, RateLimiter


class Controls:
    def __init__(self) -> None:
        self.counters = RequestCounters()
        self.faults = FaultInjector([], 0)
        self.limiter: RateLimiter | None = None

    def set_faults(self, spec: Any, seed: int | None = None) -> None:
        """Replace the fault rules (a fault SPEC); the random generator restarts from the seed."""
        rules, seed = parse_spec(spec, seed)
        self.faults = FaultInjector(rules, seed)

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        """Turn rate limiting on with fresh buckets, or off with None."""
        self.limiter = RateLimiter(limit) if limit is not None else None

    @property
    def store(self) -> Snapshotted:
        """What holds the site: dumped, loaded and saved as state JSON."""
        raise NotImplementedError

    def reset(self) -> None:
        """A fresh site with the start-up options: store, faults, limits and counters."""
        raise NotImplementedError
