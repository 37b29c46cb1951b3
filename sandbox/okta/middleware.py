"""The Okta emulator's serving layer: SSWS and OAuth authentication, per-endpoint limits, Okta's errors.

Built on `sandbox.emulation.middleware.ServingMiddleware` (counters, faults, dropped connections);
the token endpoint needs no authentication.
"""

from __future__ import annotations

import hmac
import time

from sandbox.emulation.jsonio import encode_json
from sandbox.emulation.middleware import Headers, Reply, Scope, ServingMiddleware
from sandbox.okta import ratelimit
from sandbox.okta.emulator import Emulator
from sandbox.okta.errors import ACCESS_DENIED, INTERNAL_ERROR, INVALID_TOKEN, RATE_LIMITED, error_body

TOKEN_PATH = "/oauth2/v1/token"
# The scope an OAuth access token needs, by route prefix.
SCOPES = (("/api/v1/users", "okta.users.read"), ("/api/v1/groups", "okta.groups.read"))
JSON = b"application/json"
RATE_LIMITED_SUMMARY = "API call exceeded rate limit due to too many requests."


def okta_reply(status: int, code: str, summary: str, headers: Headers | None = None) -> Reply:
    return Reply(status, encode_json(error_body(code, summary)), JSON, headers or [])


class OktaMiddleware(ServingMiddleware):
    controls: Emulator

    def admit(self, scope: Scope) -> Reply | str:
        """Refuse a missing or wrong credential (401) or a token without the route's scope (403);
        else the rate-limit key: the endpoint."""
        route = self._route(scope["method"], scope["path"])
        if scope["path"] == TOKEN_PATH:
            return route
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        kind, _, credential = header.decode("latin-1").partition(" ")
        credential = credential.strip()
        if kind == "SSWS" and any(hmac.compare_digest(credential, token) for token in self.controls.tokens):
            return route
        if kind == "Bearer":
            token = self.controls.access_tokens.get(credential)
            if token is not None and token.expires > time.time():
                needed = next((name for prefix, name in SCOPES if route.startswith(prefix)), None)
                if needed is None or needed in token.scopes:
                    return route
                return okta_reply(
                    403, ACCESS_DENIED, "You do not have permission to perform the requested action"
                )
        return okta_reply(401, INVALID_TOKEN, "Invalid token provided")

    def too_many_requests(self, headers: Headers) -> Reply:
        """429 E0000047; an injected burst's `Retry-After` becomes the window's reset time."""
        retry_after = next((int(value) for name, value in headers if name == b"retry-after"), None)
        if retry_after is not None:
            limit = next((int(value) for name, value in headers if name == b"x-rate-limit-limit"), 1)
            headers = ratelimit.headers(limit, 0, int(time.time()) + retry_after)
        return okta_reply(
            429, RATE_LIMITED, "API call exceeded rate limit due to too many requests.", headers
        )

    def injected_error(self, status: int, headers: Headers) -> Reply:
        return okta_reply(status, INTERNAL_ERROR, "Internal Server Error", headers)
