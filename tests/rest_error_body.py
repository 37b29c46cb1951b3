"""The Confluence RestError body as the contract shows it, written out independently of the emulator's code.

The emulator tests expect it; the client's error tests parse it.
"""

from __future__ import annotations

from typing import Any


def rest_error(status: int, message: str, reason: str, errors: list[str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "data": {
            "authorized": False,
            "valid": not errors,
            "allowedInReadOnlyMode": True,
            "errors": [{"message": {"translation": text, "args": []}} for text in errors or []],
            "successful": False,
        },
        "message": message,
        "reason": reason,
    }
