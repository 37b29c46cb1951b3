"""The input rules Confluence applies to new users, user updates and new groups.

Each function returns the list of broken rules (empty when the input is fine), worded after the
rules in the Data Center REST documentation, so that one 400 answer can name all of them.
"""

from __future__ import annotations

import re
from typing import Any

FORBIDDEN_USERNAME_CHARACTERS = frozenset("\\,+<>'\"")
ANONYMOUS = "anonymous"
# Deliberately loose, like Confluence: one @, no whitespace, a dot in the domain.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def username_errors(username: Any) -> list[str]:
    if _blank(username):
        return ["The userName should not be null or blank"]
    errors = []
    if any(ch in FORBIDDEN_USERNAME_CHARACTERS for ch in username):
        errors.append("The userName should not contain any of these characters \\ , + < > ' \"")
    if any(ch.isspace() for ch in username):
        errors.append("The userName should not contain any whitespace characters")
    if username != username.lower():
        errors.append("The userName should not contain any upper case characters")
    if username.lower() == ANONYMOUS:
        errors.append('The userName should not be "anonymous"')
    return errors


def full_name_errors(full_name: Any) -> list[str]:
    if _blank(full_name):
        return ["The fullName should not be null or blank"]
    if full_name.strip().lower() == ANONYMOUS:
        return ['The fullName should not be "anonymous"']
    return []


def email_errors(email: Any) -> list[str]:
    if _blank(email):
        return ["The email should not be null or blank"]
    if not _EMAIL.fullmatch(email):
        return ["The email should be a valid email address"]
    return []


def password_errors(password: Any, notify_via_email: Any) -> list[str]:
    if notify_via_email is True:
        return (
            []
            if password is None
            else ["If notifyViaEmail is true then the password should not be specified"]
        )
    if _blank(password):
        return ["If notifyViaEmail is false then the password should not be null or blank"]
    return []


def new_user_errors(body: dict[str, Any]) -> list[str]:
    """Every rule of `POST /rest/api/admin/user` that `body` breaks."""
    notify = body.get("notifyViaEmail", False)
    errors = [] if isinstance(notify, bool) else ["notifyViaEmail should be true or false"]
    return (
        username_errors(body.get("userName"))
        + full_name_errors(body.get("fullName"))
        + email_errors(body.get("email"))
        + errors
        + password_errors(body.get("password"), notify)
    )


def user_update_errors(body: dict[str, Any]) -> list[str]:
    """Every rule of `PUT /rest/api/admin/user/{username}` that `body` breaks."""
    if body.get("email") is None and body.get("fullName") is None:
        return ["Give email, fullName or both"]
    errors = []
    if body.get("fullName") is not None:
        errors += full_name_errors(body["fullName"])
    if body.get("email") is not None:
        errors += email_errors(body["email"])
    return errors


def group_name_errors(name: Any) -> list[str]:
    return ["The group name should not be null or blank"] if _blank(name) else []
