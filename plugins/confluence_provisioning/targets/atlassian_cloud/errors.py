"""SCIM error answers as the targets' typed errors (``targets.errors``).

A SCIM error body is ``{"schemas": [...Error], "status": "409", "scimType": "uniqueness",
"detail": "..."}`` (``status`` a string); 401 and 403 answer Atlassian's ``Failure``
``{"error", "traceId"}``. The message is ``detail`` (or ``error``), with the scimType in front.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from confluence_provisioning.targets.errors import (
    ConfluenceError,
    ValidationError,
    error_from_response,
    server_message,
)

# in every refusal for the email's domain: the audit store finds refused users by it
REFUSED_DOMAIN = "not on a verified domain"


class RefusedDomainError(ValidationError):
    """400 invalidValue for an email on a domain the organization has not verified."""


def scim_error_from_response(
    operation: str, target: str, status: int, body: bytes, headers: Mapping[str, str]
) -> ConfluenceError:
    scim_type, message = _scim_message(body)
    if message is None:  # not a SCIM or Failure body (a proxy's page): as any other target's
        return error_from_response(operation, target, status, body, headers)
    text = f"{scim_type}: {message}" if scim_type else message
    generic = error_from_response(operation, target, status, b"", headers)
    if status == 400 and scim_type == "invalidValue" and "domain" in message.lower():
        if REFUSED_DOMAIN not in text:
            text += f" (the email is {REFUSED_DOMAIN} of the organization)"
        return RefusedDomainError(operation, target, status, text)
    generic.server_message = text
    generic.args = (operation, target, status, text)
    return generic


def _scim_message(body: bytes) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    message = data.get("detail") or data.get("error")
    scim_type = data.get("scimType")
    if not isinstance(message, str):
        return None, None
    return (scim_type if isinstance(scim_type, str) else None), server_message(message.encode(), 0)
