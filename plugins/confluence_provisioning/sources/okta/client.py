"""Okta's Management API as a reader needs it: GET with paging, rate limits and retries, failing closed.

- Paging follows the `Link: <...>; rel="next"` header to the end; a next link to another origin,
  or one seen before in the same walk (a loop), fails the read.
- Rate limits: every answer's `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` are kept per
  endpoint; when the remaining budget is down to the requests that may be in flight, the next
  request waits for the reset instead of running into a 429. A 429 waits for its reset too. The
  reset (epoch seconds) is read against the answer's `Date`, so the two clocks need not agree.
- 5xx answers and broken connections are retried with jittered backoff, up to `max_attempts`
  per request; every wait of a read counts against one `budget_seconds`. A 401 with OAuth
  credentials gets one fresh access token. Any other answer, or a body that is not what the
  route returns, raises `OktaReadError` with the request, status, error code and summary.

HTTP goes through the Data Center target's `Transport` (keep-alive `http.client` connections,
at most `max_in_flight` requests at once), backoff follows its `RetryPolicy`.
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from confluence_provisioning.sources.okta.auth import Credentials
from confluence_provisioning.sources.okta.errors import OktaReadError
from confluence_provisioning.targets.retry import RetryPolicy
from confluence_provisioning.targets.transport import ConnectionFailed, Response, Transport

_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')
_MEMBERS = re.compile(r"^/api/v1/groups/[^/]+/users")
_decode_list = msgspec.json.Decoder(list[dict[str, Any]])


@dataclass(slots=True)
class _Budget:
    remaining: int
    resume_at: float  # monotonic time the window resets


class OktaClient:
    def __init__(
        self,
        org_url: str,
        credentials: Credentials,
        *,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_in_flight: int = 4,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.org_url = org_url
        self.credentials = credentials
        self.policy = policy or RetryPolicy()
        self.max_in_flight = max_in_flight
        # One dict the transport sends with every request; only Authorization changes (a renewed token).
        self._headers = {"Accept": "application/json", "Authorization": ""}
        self._transport = Transport(
            org_url, self._headers, verify=verify, timeout=timeout, max_in_flight=max_in_flight
        )
        self._sleep = sleep
        self._budgets: dict[str, _Budget] = {}
        self._lock = threading.Lock()
        self._waited = 0.0
        self.requests = 0
        self.rate_limit_waits = 0

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> OktaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paging ------------------------------------------------------------------------------

    def walk(
        self, path: str, params: dict[str, Any], decoder: msgspec.json.Decoder = _decode_list
    ) -> Iterator[tuple[list[Any], Response]]:
        """Every page of a list, as (items, response), following `rel="next"` to the end.

        `decoder` decodes a page (default: a list of dicts); it fails on anything but a list.
        """
        target: str | None = f"{path}?{urlencode(params)}" if params else path
        seen: set[str] = set()
        while target is not None:
            seen.add(target)
            response = self.get(target)
            try:
                items = decoder.decode(response.body)
            except (msgspec.DecodeError, msgspec.ValidationError):
                raise OktaReadError(f"GET {target}: the answer is not a JSON array of objects") from None
            yield items, response
            target = self._next(response, target)
            if target in seen:
                raise OktaReadError(f"GET {path}: the next link leads back to a page already read ({target})")

    def _next(self, response: Response, current: str) -> str | None:
        links = {
            rel: url
            for header in response.headers.get_all("Link") or ()
            for url, rel in _LINK.findall(header)
        }
        url = links.get("next")
        if url is None:
            return None
        parts, origin = urlsplit(url), urlsplit(self.org_url)
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
            raise OktaReadError(f"GET {current}: the next link {url!r} leaves the org {self.org_url}")
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    # -- one request -------------------------------------------------------------------------

    def get(self, target: str) -> Response:
        """The 200 answer to `GET target`; retries what is transient, raises `OktaReadError` otherwise."""
        bucket = _MEMBERS.sub("/api/v1/groups/{groupId}/users", target.partition("?")[0])
        failures = 0
        renewed = False
        while True:
            self._pace(bucket)
            self._headers["Authorization"] = self.credentials.authorization()
            try:
                response = self._transport.request("GET", target)
            except ConnectionFailed as error:
                failures += 1
                self._retry_or_fail(target, failures, f"no answer: {error}")
                continue
            with self._lock:
                self.requests += 1
            reset_in = self._note_budget(bucket, response)
            if response.status == 200:
                return response
            if response.status == 429:
                self.rate_limit_waits += 1
                self._wait(target, reset_in if reset_in is not None else self._backoff(1), "rate limit (429)")
                with self._lock:
                    self._budgets.pop(bucket, None)  # waited for the reset: a new window
                continue
            if response.status == 401 and not renewed and self.credentials.refused():
                renewed = True
                continue
            if response.status >= 500:
                failures += 1
                self._retry_or_fail(target, failures, _describe(response))
                continue
            raise OktaReadError(f"GET {target}: {_describe(response)}{_hint(response.status)}")

    def _retry_or_fail(self, target: str, failures: int, what: str) -> None:
        if failures >= self.policy.max_attempts:
            raise OktaReadError(f"GET {target}: {what}, {failures} times; giving up (the read is incomplete)")
        self._wait(target, self._backoff(failures), what)

    def _backoff(self, failures: int) -> float:
        return self.policy.backoff_ceiling(failures) * random.random()

    def _wait(self, target: str, seconds: float, why: str) -> None:
        with self._lock:
            self._waited += seconds
            over = self._waited > self.policy.budget_seconds
        if over:
            raise OktaReadError(
                f"GET {target}: {why}; waiting {seconds:.1f} s more would pass the read's budget of "
                f"{self.policy.budget_seconds:g} s (source.budget_seconds)"
            )
        self._sleep(seconds)

    # -- rate limits -------------------------------------------------------------------------

    def _pace(self, bucket: str) -> None:
        """Wait for the window's reset when the budget left is what may already be in flight."""
        with self._lock:
            budget = self._budgets.get(bucket)
            wait = 0.0
            if budget is not None:
                if budget.remaining <= self.max_in_flight:
                    wait = budget.resume_at - time.monotonic()
                    if wait <= 0:
                        del self._budgets[bucket]  # a new window: the next answer says how much is left
                budget.remaining -= 1
        if wait > 0:
            with self._lock:
                self.rate_limit_waits += 1
            self._wait(bucket, wait, "the rate limit is nearly spent (X-Rate-Limit-Remaining)")

    def _note_budget(self, bucket: str, response: Response) -> float | None:
        """Keep the endpoint's budget from the answer; returns the seconds until its window resets."""
        headers = response.headers
        try:
            remaining = int(headers["X-Rate-Limit-Remaining"])
            reset = int(headers["X-Rate-Limit-Reset"])
        except (KeyError, TypeError, ValueError):
            return None
        date = headers.get("Date")
        server_now = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
        # the Date is whole seconds: up to a second early, so waiting until `reset` from it is safe
        reset_in = max(0.0, reset - server_now) + 0.05
        with self._lock:
            self._budgets[bucket] = _Budget(remaining, time.monotonic() + reset_in)
        return reset_in


def _describe(response: Response) -> str:
    """`503 E0000009 Internal Server Error` from Okta's error body (or the status alone)."""
    try:
        body = msgspec.json.decode(response.body)
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict) and "errorCode" in body:
        causes = "; ".join(
            str(cause.get("errorSummary"))
            for cause in body.get("errorCauses") or ()
            if isinstance(cause, dict)
        )
        return f"{response.status} {body['errorCode']} {body.get('errorSummary', '')}" + (
            f" ({causes})" if causes else ""
        )
    return f"HTTP {response.status}"


def _hint(status: int) -> str:
    if status == 401:
        return ": Okta refused the credentials; check the connection's API token or service app"
    if status == 403:
        return (
            ": the credentials may not read this (an API token needs a read-only admin or more; "
            "a service app the okta.users.read and okta.groups.read scopes)"
        )
    return ""
