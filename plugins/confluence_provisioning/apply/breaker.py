"""A circuit breaker shared by the workers of a stage: when Confluence is down, stop sending.

Without it, a Confluence that stops answering mid-apply still gets every remaining
operation with all its retries. The breaker hears the outcome of every request and
opens after ``consecutive_failures`` connection errors or 5xx answers in a row (across
operations and workers), or when one arrives and no request has succeeded for
``no_success_seconds`` (requests that hang until their timeout fail slowly, so the
count alone would take long). Any other answer, a 4xx or a 429 included, proves
Confluence is there and closes the run of failures.

Once open it stays open: the caller sends nothing more and fails its task, and
Airflow's task retry (with its own backoff) tries again later; applying is idempotent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from confluence_provisioning.targets.errors import ConfluenceError, TransientError

T = TypeVar("T")


class ConfluenceUnavailable(ConfluenceError):
    """The breaker is open: the request was not sent."""


class CircuitBreaker:
    def __init__(
        self,
        *,
        consecutive_failures: int,
        no_success_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consecutive_failures = consecutive_failures
        self.no_success_seconds = no_success_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._last_success = clock()
        self._opened = threading.Event()
        self.reason: str | None = None  # why it opened; None while closed

    @property
    def open(self) -> bool:
        return self.reason is not None

    def call(self, send: Callable[[], T]) -> T:
        """``send()`` unless the breaker is open (then ConfluenceUnavailable); its outcome is heard."""
        if self.reason is not None:
            raise ConfluenceUnavailable("send", "", None, self.reason)
        try:
            answer = send()
        except TransientError as error:
            self._heard(error)
            raise
        except ConfluenceError:
            self._heard(None)
            raise
        self._heard(None)
        return answer

    def wait(self, seconds: float) -> None:
        """Sleep between two attempts, cut short when the breaker opens (nothing more will be sent)."""
        self._opened.wait(seconds)

    def _heard(self, error: TransientError | None) -> None:
        with self._lock:
            now = self._clock()
            if error is None or error.status == 429:
                self._failures = 0
                self._last_success = now
                return
            self._failures += 1
            if self.reason is not None:
                return
            quiet = now - self._last_success
            if self._failures >= self.consecutive_failures:
                self.reason = (
                    f"Confluence unavailable: {self._failures} connection errors or 5xx answers in a row "
                    f"(the last: {error})"
                )
            elif quiet >= self.no_success_seconds:
                self.reason = (
                    f"Confluence unavailable: no request succeeded for {quiet:.0f} s (the last: {error})"
                )
            if self.reason is not None:
                self._opened.set()
