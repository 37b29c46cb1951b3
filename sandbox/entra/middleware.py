"""The Entra emulator's part of the outermost ASGI layer: bearer tokens and Graph's error bodies.

The counters, throttle and faults are `sandbox.emulation.middleware`'s. Graph routes (``/v1.0/``)
need a live access token (401 ``InvalidAuthenticationToken`` otherwise) and are throttled per
application; the token endpoint and the OpenID configuration need none and share one bucket.
"""

from __future__ import annotations

from sandbox.emulation.jsonio import encode_json
from sandbox.emulation.middleware import ASGIApp, Headers, Reply, Route, Scope, ServingMiddleware
from sandbox.entra.emulator import EntraEmulator
from sandbox.entra.graph import GRAPH_APP_ID, GraphError, error_body

JSON = b"application/json"
GRAPH_PREFIX = "/v1.0/"
CALLER = "entra.client_id"  # scope key: the client id the token was issued to
_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    f'client_id="{GRAPH_APP_ID}"'
).encode()
_MESSAGES = {
    None: "Access token is empty.",
    "invalid": "Access token validation failure. Invalid audience.",
    "expired": "Lifetime validation failed, the token is expired.",
}


class GraphMiddleware(ServingMiddleware):
    def __init__(self, app: ASGIApp, emulator: EntraEmulator, routes: list[Route]) -> None:
        super().__init__(app, emulator, routes)
        self.emulator = emulator

    def admit(self, scope: Scope) -> Reply | str:
        if not scope["path"].startswith(GRAPH_PREFIX):
            return "identity platform"
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        kind, _, token = header.decode("latin-1").partition(" ")
        why: str | None = None
        if kind.lower() == "bearer" and token.strip():
            client_id, why = self.emulator.tokens.check(token.strip())
            if client_id is not None:
                scope[CALLER] = client_id
                return client_id
        body = encode_json(error_body("InvalidAuthenticationToken", _MESSAGES[why]))
        return Reply(401, body, JSON, [(b"www-authenticate", _CHALLENGE)])

    def too_many_requests(self, headers: Headers) -> Reply:
        return Reply(429, encode_json(throttled().body()), JSON, headers)

    def injected_error(self, status: int, headers: Headers) -> Reply:
        return Reply(status, encode_json(injected_error(status).body()), JSON, headers)


def injected_error(status: int) -> GraphError:
    """The error a fault rule answers with (also inside a `$batch`)."""
    return GraphError(
        status, "serviceNotAvailable" if status == 503 else "generalException", "Injected fault"
    )


def throttled(retry_after: str | None = None) -> GraphError:
    """A throttled request's answer (also inside a `$batch`, where Retry-After is one of its headers)."""
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return GraphError(
        429, "TooManyRequests", "Too many requests. Retry after the time in Retry-After.", headers
    )
