"""Confluence's `RestError` body and the exception that carries it out of the store and the routes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """An answer other than success: the HTTP status, the message and, for 400, the validation errors."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        return rest_error(self.status, self.message, self.errors)


def rest_error(status: int, message: str, errors: list[str] | None = None) -> dict[str, Any]:
    """The body Confluence sends with every REST error, as the contract shows it."""
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
        "reason": HTTPStatus(status).phrase,
    }
