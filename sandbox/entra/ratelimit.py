"""Graph's throttle: the shared token bucket, answering only ``Retry-After`` (no quota headers)."""

from __future__ import annotations

from sandbox.emulation.ratelimit import RateLimiter


class GraphThrottle(RateLimiter):
    def _headers(self, remaining: int, retry_after: int) -> list[tuple[bytes, bytes]]:
        return [(b"retry-after", str(retry_after).encode())] if retry_after else []
