"""What each operation sends, and what Confluence's answers mean for it.

The client raises ``ConflictError`` / ``NotFoundError`` as they come; here they become
results. 404 on a disable, a delete or a membership removal means it is already done.
409 on a create is checked with a read, since the answer alone proves nothing (a lost
answer to our own create, a proxy, another admin):

- the group exists, or the user exists and is active: already true;
- it cannot be found: failed, so nothing is added to what is not there;
- the user exists but is deactivated: failed, as the run wanted an active account. A
  create does not re-enable (``users.operations.reenable`` may forbid it); the next
  run plans the re-enable like any other disabled account.

Every other error is the operation's failure.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from confluence_provisioning.plan.operations import Operation, OperationKind
from confluence_provisioning.targets.confluence_dc.client import ConfluenceClient
from confluence_provisioning.targets.errors import ConflictError, NotFoundError

APPLIED = "applied"
ALREADY_TRUE = "already-true"
DRY_RUN = "skipped-dry-run"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # APPLIED, ALREADY_TRUE or DRY_RUN
    http_status: int | None


Send = Callable[[Callable[[], int | None]], int | None]  # sends one request, with retries


def perform(operation: Operation, client: ConfluenceClient, send: Send, *, notify_via_email: bool) -> Outcome:
    """Carry out one operation through ``send``; raises the ConfluenceError of a failure."""
    request = _request(operation, client, notify_via_email)
    try:
        return _outcome(send(request))
    except ConflictError as error:
        if operation.kind not in _CREATES:
            raise
        problem = _not_there(operation, client)
        if problem is not None:
            raise ConflictError(
                error.operation, error.target, error.status, f"{error.server_message}, but {problem}"
            ) from None
        return Outcome(ALREADY_TRUE, error.status)
    except NotFoundError as error:
        if operation.kind in _DONE_WHEN_GONE:
            return Outcome(ALREADY_TRUE, error.status)
        raise


_CREATES = frozenset({OperationKind.create_group, OperationKind.create_user})

_DONE_WHEN_GONE = frozenset(
    {
        OperationKind.disable_user,
        OperationKind.delete_user,
        OperationKind.delete_group,
        OperationKind.remove_membership,
    }
)


def _not_there(operation: Operation, client: ConfluenceClient) -> str | None:
    """After a 409 on a create: why what it asked for is not there; None when it is (reads retry)."""
    name = operation.target
    if operation.kind is OperationKind.create_group:
        return None if client.group_exists(name) else f"no group {name} can be read back"
    user = client.user(name)
    if user is None:
        return f"no user {name} can be read back"
    if not user["active"]:
        return f"user {name} is deactivated; the next run re-enables it if users.operations.reenable allows"
    return None


def _outcome(http_status: int | None) -> Outcome:
    # the client answers None for a write it recorded instead of sending (dry run)
    return Outcome(DRY_RUN, None) if http_status is None else Outcome(APPLIED, http_status)


def _request(
    operation: Operation, client: ConfluenceClient, notify_via_email: bool
) -> Callable[[], int | None]:
    target, group, payload = operation.target, operation.group or "", operation.payload
    match operation.kind:
        case OperationKind.create_group:
            return lambda: client.create_group(target)
        case OperationKind.create_user:
            # SSO sites: a random password nobody knows, made per attempt and never kept
            return lambda: client.create_user(
                target,
                payload["full_name"],
                payload["email"],
                password=None if notify_via_email else secrets.token_urlsafe(24),
                notify_via_email=notify_via_email,
            )
        case OperationKind.reenable_user:
            return lambda: client.enable_user(target)
        case OperationKind.update_user:
            return lambda: client.update_user(target, full_name=payload["full_name"], email=payload["email"])
        case OperationKind.add_membership:
            return lambda: client.add_member(target, group)
        case OperationKind.remove_membership:
            return lambda: client.remove_member(target, group)
        case OperationKind.disable_user:
            return lambda: client.disable_user(target)
        case OperationKind.delete_user:
            return lambda: client.delete_user(target)
        case OperationKind.delete_group:
            return lambda: client.delete_group(target)
        case _:
            assert_never(operation.kind)
