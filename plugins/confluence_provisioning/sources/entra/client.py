"""A Microsoft Graph client: app-only tokens, retries that honour Retry-After, paging and $batch.

Tokens come from the OAuth 2.0 client credentials grant, as one form POST to
``{authority}/{tenant}/oauth2/v2.0/token`` (see bench/RESULTS.md for why not MSAL), and are
renewed five minutes before they expire, or once when Graph answers 401. Transient answers
(429, 5xx, a dropped connection) are retried: the wait is the larger of the server's
Retry-After and a jittered backoff, within the attempts and the time budget of ``retry``; a
read that runs out of either fails. Messages never hold the secret or a token.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from confluence_provisioning.settings import RetrySettings
from confluence_provisioning.sources.entra.errors import EntraReadError, ResyncRequired

if TYPE_CHECKING:
    from confluence_provisioning.sources.entra.hook import EntraOptions

SCOPE = "https://graph.microsoft.com/.default"
RENEW_BEFORE = 300.0  # seconds before expiry a token is renewed
TRANSIENT = frozenset({429, 500, 502, 503, 504})
RESYNC_CODES = frozenset({"resyncRequired", "syncStateNotFound"})
_decode = msgspec.json.Decoder().decode


class GraphClient:
    def __init__(
        self,
        options: EntraOptions,
        retry: RetrySettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.retry = retry or RetrySettings()
        self.requests = 0  # HTTP requests sent, token requests included
        self._sleep = sleep
        self._on_retry = on_retry
        self._http = httpx.Client(verify=options.verify, timeout=options.timeout)
        self._token: str | None = None
        self._expires_at = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL: Graph's links as they are, a path below ``{host}/v1.0/``."""
        return path if "://" in path else f"{self.options.graph_url}/v1.0/{path.lstrip('/')}"

    def get_json(self, path: str) -> dict[str, Any]:
        return self._json("GET", self.url(path))

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every page of a list, following ``@odata.nextLink`` to the end; a link seen before is an error."""
        url: str | None = self.url(path)
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            page = self._json("GET", url)
            yield page
            url = page.get("@odata.nextLink")
            if url is not None and url in seen:
                raise EntraReadError(f"Graph sent a nextLink already followed ({_short(url)}): a paging loop")

    def batch(self, paths: Sequence[str]) -> list[dict[str, Any]]:
        """The bodies of GET ``paths`` (at most 20) sent as one JSON batch; throttled ones are sent again."""
        bodies: dict[str, dict[str, Any]] = {}
        pending = {str(n): path for n, path in enumerate(paths)}
        attempt, started = 0, time.monotonic()  # attempts count rounds in a row that got nothing
        while pending:
            before = len(pending)
            requests = [{"id": i, "method": "GET", "url": "/" + p.lstrip("/")} for i, p in pending.items()]
            answer = self._json("POST", self.url("$batch"), json={"requests": requests})
            waits: list[float] = []
            failed: list[str] = []
            for response in answer.get("responses", []):
                request_id, status = str(response.get("id")), int(response.get("status", 0))
                if request_id not in pending:
                    continue
                if status == 200:
                    bodies[request_id] = response.get("body") or {}
                    del pending[request_id]
                elif status in TRANSIENT:
                    waits.append(_retry_after(response.get("headers") or {}) or 0.0)
                    failed.append(f"{pending[request_id]}: HTTP {status}")
                else:
                    raise _error("GET", self.url(pending[request_id]), status, response.get("body"))
            if pending and not failed:
                raise EntraReadError(f"a $batch answer left out requests {sorted(pending)}")
            if pending:
                attempt = 1 if len(pending) < before else attempt + 1
                delay = self._delay(attempt, max(waits), throttled=True)
                if (
                    attempt >= self.retry.max_attempts
                    or time.monotonic() - started + delay > self.retry.budget_seconds
                ):
                    raise EntraReadError(f"gave up after {attempt} attempts within a $batch: {failed[0]}")
                self._note(
                    f"{len(failed)} batched reads throttled or failing ({failed[0]}); again in {delay:.1f} s"
                )
                self._sleep(delay)
        return [bodies[str(n)] for n in range(len(paths))]

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, url, **kwargs)
        try:
            body = _decode(response.content)
        except msgspec.DecodeError:
            raise EntraReadError(f"{method} {_short(url)}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise EntraReadError(f"{method} {_short(url)}: the answer is not a JSON object")
        return body

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with a token, retried while transient; EntraReadError for any other failure."""
        attempt, started, renewed = 0, time.monotonic(), False
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            retry_after: float | None = None
            try:
                self.requests += 1
                response = self._http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code < 300:
                    return response
                if response.status_code == 401 and not renewed:
                    self._token, renewed = None, True  # expired or revoked early: one new token
                    continue
                if response.status_code not in TRANSIENT:
                    raise _error(method, url, response.status_code, _body(response))
                problem = f"HTTP {response.status_code}"
                retry_after = _retry_after(response.headers)
            throttled = problem == "HTTP 429"
            delay = self._delay(attempt, retry_after, throttled=throttled)
            if (
                attempt >= self.retry.max_attempts
                or time.monotonic() - started + delay > self.retry.budget_seconds
            ):
                what = "throttled" if throttled else "failing"
                raise EntraReadError(
                    f"{method} {_short(url)}: still {what} after {attempt} attempts in "
                    f"{time.monotonic() - started:.0f} s ({problem}); the read is incomplete"
                )
            self._note(f"{method} {_short(url)}: {problem}; attempt {attempt + 1} in {delay:.1f} s")
            self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None, *, throttled: bool) -> float:
        """The larger of the server's Retry-After (capped) and the jittered backoff; 429: 1 s at least."""
        ceiling = min(self.retry.max_delay_seconds, self.retry.base_delay_seconds * 2 ** min(attempt - 1, 64))
        delay = max(min(retry_after or 0.0, self.retry.retry_after_cap_seconds), ceiling * random.random())
        return max(delay, 1.0) if throttled else delay

    def _note(self, message: str) -> None:
        if self._on_retry is not None:
            self._on_retry(message)

    # -- token ----------------------------------------------------------------------------------

    def token(self) -> str:
        """A live access token: the one held, or a new one when it is missing or about to expire."""
        if self._token is None or time.monotonic() >= self._expires_at:
            self._token, lifetime = self._new_token()
            self._expires_at = time.monotonic() + max(lifetime - RENEW_BEFORE, lifetime / 2)
        return self._token

    def _new_token(self) -> tuple[str, float]:
        options = self.options
        url = f"{options.authority}/{options.tenant_id}/oauth2/v2.0/token"
        form = {
            "client_id": options.client_id,
            "client_secret": options.client_secret,
            "scope": SCOPE,
            "grant_type": "client_credentials",
        }
        who = f"app {options.client_id} in tenant {options.tenant_id} at {options.authority}"
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                self.requests += 1
                response = self._http.post(url, data=form)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code == 200:
                    body = _decode(response.content)
                    return str(body["access_token"]), float(body.get("expires_in", 3599))
                if response.status_code not in TRANSIENT:
                    body = _body(response)
                    error = body.get("error", "") if isinstance(body, dict) else ""
                    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
                    raise EntraReadError(
                        f"could not get a token for {who}: HTTP {response.status_code} {error}: "
                        f"{description.split(' Trace ID:')[0].strip()}"
                    )
                problem = f"HTTP {response.status_code}"
            if attempt < self.retry.max_attempts:
                self._sleep(self._delay(attempt, None, throttled=False))
        raise EntraReadError(f"could not get a token for {who}: {problem}")


def _body(response: httpx.Response) -> Any:
    try:
        return _decode(response.content)
    except msgspec.DecodeError:
        return response.text[:300]


def _error(method: str, url: str, status: int, body: Any) -> EntraReadError:
    """The error of a non-transient answer: Graph's code and message, and what to do about a 403."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code", "") if isinstance(error, dict) else ""
    message = error.get("message", "") if isinstance(error, dict) else str(body)[:300]
    text = f"{method} {_short(url)}: HTTP {status} {code}: {message}".rstrip(": ")
    if status == 410 or code in RESYNC_CODES:
        return ResyncRequired(text)
    if status == 403:
        text += (
            "; grant the app the application permissions User.Read.All and GroupMember.Read.All, "
            "with admin consent"
        )
    return EntraReadError(text)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(url: str) -> str:
    """A URL for a message: without the query's state tokens, which are long and say nothing."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")
