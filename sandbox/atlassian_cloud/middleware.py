"""Atlassian's part of the outermost ASGI layer: where the directory lives, Bearer auth, error bodies.

The counters, rate limit and faults are `sandbox.emulation.middleware`'s. 401 bodies follow the
OpenAPI document's `Failure` schema; 404 (another directory), 429 and injected errors the SCIM error
schema (`status` a string).
"""

from __future__ import annotations

import hmac
from typing import Any

from sandbox.atlassian_cloud.emulator import CloudEmulator
from sandbox.emulation.jsonio import encode_json
from sandbox.emulation.middleware import ASGIApp, Headers, Reply, Route, Scope, ServingMiddleware

SCIM_JSON = b"application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_error(status: int, detail: str, scim_type: str | None = None) -> bytes:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return encode_json(body)


class CloudMiddleware(ServingMiddleware):
    def __init__(self, app: ASGIApp, emulator: CloudEmulator, routes: list[Route]) -> None:
        super().__init__(app, emulator, routes)
        self.emulator = emulator
        self._token = emulator.config.token.encode()

    def local_path(self, scope: Scope) -> str | None:
        prefix = self.emulator.config.api_prefix
        path: str = scope["path"]
        return path if path == prefix or path.startswith(prefix + "/") else None

    def outside(self) -> Reply:
        return Reply(404, scim_error(404, "Directory does not exist"), SCIM_JSON)

    def admit(self, scope: Scope) -> Reply | str:
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        kind, _, token = header.partition(b" ")
        if kind.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._token):
            failure = {"error": "Missing or invalid authorization header", "traceId": "emulator"}
            return Reply(401, encode_json(failure), b"application/json")
        return "directory-api-key"

    def too_many_requests(self, headers: Headers) -> Reply:
        return Reply(429, scim_error(429, "Too many requests"), SCIM_JSON, headers)

    def injected_error(self, status: int, headers: Headers) -> Reply:
        return Reply(status, scim_error(status, "Injected fault"), SCIM_JSON, headers)
