"""Okta's error body and the exception that carries it out of the directory and the routes."""

from __future__ import annotations

import secrets
from typing import Any

# The codes the emulator answers with (Okta's error code catalogue, as the OpenAPI examples show them).
API_VALIDATION_FAILED = "E0000001"
ACCESS_DENIED = "E0000006"
NOT_FOUND = "E0000007"
INTERNAL_ERROR = "E0000009"
INVALID_TOKEN = "E0000011"
INVALID_SEARCH = "E0000031"
RATE_LIMITED = "E0000047"


class OktaError(Exception):
    """An answer other than success: the HTTP status, Okta's error code, summary and causes."""

    def __init__(self, status: int, code: str, summary: str, causes: list[str] | None = None) -> None:
        super().__init__(summary)
        self.status = status
        self.code = code
        self.summary = summary
        self.causes = causes or []

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.summary, self.causes)


def error_body(code: str, summary: str, causes: list[str] | None = None) -> dict[str, Any]:
    """`{errorCode, errorSummary, errorLink, errorId, errorCauses}`, as every Okta error carries."""
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae" + secrets.token_urlsafe(16)[:22],
        "errorCauses": [{"errorSummary": cause} for cause in causes or []],
    }


def not_found(kind: str, what: str) -> OktaError:
    """`kind` is Okta's object name: "User", "UserGroup"."""
    return OktaError(404, NOT_FOUND, f"Not found: Resource not found: {what} ({kind})")


def validation_failed(field: str, message: str) -> OktaError:
    return OktaError(400, API_VALIDATION_FAILED, f"Api validation failed: {field}", [f"{field}: {message}"])
