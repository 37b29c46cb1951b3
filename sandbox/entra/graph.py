"""Microsoft Graph's vocabulary as the emulator serves it: object types, properties, error bodies.

Everything here is taken from Microsoft's Graph v1.0 documentation and OpenAPI description (see
CONTRACT.md); nothing from our client.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

USER = "user"
GROUP = "group"
SERVICE_PRINCIPAL = "servicePrincipal"
DEVICE = "device"
CONTACT = "orgContact"
TYPES = (USER, GROUP, SERVICE_PRINCIPAL, DEVICE, CONTACT)


def odata_type(kind: str) -> str:
    return f"#microsoft.graph.{kind}"


# What a GET returns without $select (documented default sets; the rest only when selected).
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    USER: (
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
    ),
    GROUP: (
        "description",
        "displayName",
        "groupTypes",
        "mail",
        "mailEnabled",
        "mailNickname",
        "securityEnabled",
        "visibility",
    ),
    SERVICE_PRINCIPAL: ("appId", "displayName", "servicePrincipalType"),
    DEVICE: ("deviceId", "displayName", "accountEnabled", "operatingSystem"),
    CONTACT: ("displayName", "mail", "givenName", "surname"),
}
# Properties a $select may name (a name outside these is a 400, as Graph answers).
SELECTABLE: dict[str, frozenset[str]] = {
    USER: frozenset(
        {
            "id",
            "accountEnabled",
            "businessPhones",
            "companyName",
            "createdDateTime",
            "department",
            "displayName",
            "employeeId",
            "employeeType",
            "givenName",
            "jobTitle",
            "mail",
            "mailNickname",
            "mobilePhone",
            "officeLocation",
            "onPremisesSamAccountName",
            "otherMails",
            "preferredLanguage",
            "surname",
            "userPrincipalName",
            "userType",
            "manager",
        }
    ),
    GROUP: frozenset({"id", *DEFAULT_PROPERTIES[GROUP], "createdDateTime", "members", "owners"}),
}
# Tracked for changes by a group delta query without $select: the default properties and members.
GROUP_DELTA_DEFAULT = (*DEFAULT_PROPERTIES[GROUP], "members")
USER_DELTA_DEFAULT = DEFAULT_PROPERTIES[USER]

MAX_TOP = 999  # "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
DEFAULT_TOP = 100
MAX_BATCH = 20
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's own application id


def error_body(code: str, message: str) -> dict[str, Any]:
    """Graph's error resource: ``{"error": {"code", "message", "innerError": {...}}}``."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    request_id = str(uuid.uuid4())
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": now, "request-id": request_id, "client-request-id": request_id},
        }
    }


def token_error_body(error: str, code: int, description: str) -> dict[str, Any]:
    """The identity platform's token error: ``{"error", "error_description", "error_codes", ...}``."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Timestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": str(uuid.uuid4()),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


class GraphError(Exception):
    """An error answer of a Graph route: status, code, message and extra headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )
