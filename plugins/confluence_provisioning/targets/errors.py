"""Typed target errors (every target kind raises these), and the one place a Data Center HTTP error
answer becomes one (``targets.atlassian_cloud.errors`` reads SCIM error bodies into the same types).

Each error names the operation ("create user"), its target ("alice", or
"user alice in group eng"), the HTTP status and Confluence's own message, so
the log line and the report say what failed without a second look. Messages
never carry credentials: they are built from the operation, the target and the
server's answer only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

# Long bodies (an HTML error page, a stack trace) are cut to this in a message.
MESSAGE_LIMIT = 300


class ConfluenceError(Exception):
    """A Confluence call that did not succeed.

    ``status`` is None when no HTTP status applies (the connection failed, a
    long task ended badly). ``attempts`` is set by ``call_with_retry``.
    """

    def __init__(self, operation: str, target: str, status: int | None, server_message: str) -> None:
        self.operation = operation
        self.target = target
        self.status = status
        self.server_message = server_message
        self.attempts = 1
        # args are the constructor's arguments, so errors pickle (Airflow, process pools) whole
        super().__init__(operation, target, status, server_message)

    def __str__(self) -> str:
        where = f"{self.operation} '{self.target}'" if self.target else self.operation
        if self.status is None:
            return f"{where}: {self.server_message}"
        return f"{where}: HTTP {self.status}: {self.server_message}"


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """Confluence's rate limit as its headers state it: ``fill_rate`` tokens every ``interval_seconds``."""

    fill_rate: float
    interval_seconds: float

    @property
    def per_second(self) -> float:
        return self.fill_rate / self.interval_seconds


class TransientError(ConfluenceError):
    """429, 5xx, a dropped connection or a timeout: worth retrying.

    ``rate_limit`` is what the answer's rate-limit headers said, None without them.
    """

    def __init__(
        self,
        operation: str,
        target: str,
        status: int | None,
        server_message: str,
        *,
        retry_after: float | None = None,
        rate_limit: RateLimitInfo | None = None,
    ) -> None:
        super().__init__(operation, target, status, server_message)
        self.retry_after = retry_after
        self.rate_limit = rate_limit


class NotFoundError(ConfluenceError):
    """404: the user or group does not exist."""


class ConflictError(ConfluenceError):
    """409: the user or group already exists."""


class ValidationError(ConfluenceError):
    """400: Confluence refused the request's content (its message says why)."""


class NoLicenceSeatError(ConfluenceError):
    """402: no licence seat is left for another user."""


class AuthError(ConfluenceError):
    """401/403, or credentials Confluence treats as anonymous."""


class DryRunRefused(ConfluenceError):
    """Names the dry-run refusal for callers that want to raise it; the client itself records instead."""


_BY_STATUS: dict[int, type[ConfluenceError]] = {
    400: ValidationError,
    401: AuthError,
    402: NoLicenceSeatError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
}


def error_from_response(
    operation: str, target: str, status: int, body: bytes, headers: Mapping[str, str]
) -> ConfluenceError:
    """The typed error for an HTTP error answer (status >= 400)."""
    message = server_message(body, status)
    if status == 429 or status >= 500:
        return TransientError(
            operation,
            target,
            status,
            message,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            rate_limit=parse_rate_limit(headers),
        )
    return _BY_STATUS.get(status, ConfluenceError)(operation, target, status, message)


def server_message(body: bytes, status: int) -> str:
    """Confluence's own words: the RestError ``message`` (plus validation errors), else the body's first line.

    A 429 (and a proxy's 502) answers with an HTML page, not JSON: its visible
    text is used, not its markup.
    """
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return f"(empty body, HTTP {status})"
    if text[0] in "{[":
        message = _rest_error_message(text)
        if message:
            return _cut(message)
    if text[0] == "<":
        text = _visible_text(text)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return _cut(first_line or f"(no message, HTTP {status})")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form and junk count as absent (the backoff then decides)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """X-RateLimit-FillRate and X-RateLimit-Interval-Seconds; None unless both are positive numbers."""
    try:
        fill_rate = float(headers.get("X-RateLimit-FillRate", ""))
        interval = float(headers.get("X-RateLimit-Interval-Seconds", ""))
    except ValueError:
        return None
    # nan and inf parse too, and would pace at no rate or at any
    if not (0 < fill_rate < math.inf and 0 < interval < math.inf):
        return None
    return RateLimitInfo(fill_rate, interval)


def _rest_error_message(text: str) -> str | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    details = _validation_errors(body.get("data"))
    message = body["message"].strip()
    extra = [detail for detail in details if detail != message]
    return "; ".join([message, *extra]) if message else "; ".join(extra) or None


def _validation_errors(data: object) -> list[str]:
    """The ``data.errors[].message.translation`` texts a 400 carries besides its message."""
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return []
    texts = []
    for error in data["errors"]:
        message = error.get("message") if isinstance(error, dict) else None
        text = message.get("translation") if isinstance(message, dict) else message
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
    return texts


class _TextOfHtml(HTMLParser):
    """Collects the text a browser would show, one line per block, skipping head/script/style."""

    _HIDDEN = frozenset({"head", "title", "script", "style"})

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.lines.append(" ".join(data.split()))


def _visible_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.lines)


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
