"""Request counters by method, route template and status, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._routes: Counter[str] = Counter()
            self._methods: Counter[str] = Counter()
            self._statuses: Counter[int] = Counter()

    def record(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._routes[f"{method} {route}"] += 1
            self._methods[method] += 1
            self._statuses[status] += 1

    def as_json(self) -> dict[str, Any]:
        """Counts since the last clear; a dropped connection counts under status 0::

        {"total": 3, "by_method": {"PUT": 3}, "by_status": {"204": 3},
         "by_route": {"PUT /rest/api/user/{username}/group/{groupName}": 3}}
        """
        with self._lock:
            return {
                "total": sum(self._methods.values()),
                "by_method": dict(self._methods),
                "by_route": dict(self._routes),
                "by_status": {str(status): count for status, count in sorted(self._statuses.items())},
            }
