"""How the shared apply engine carries out a plan on Atlassian Cloud (``apply.applier.Performer``).

- Memberships: the add (or remove) operations of one group go together, ``member_batch`` a
  ``PATCH /Groups/{id}``; every other operation is one request.
- Users and groups are addressed by SCIM id: ``ScimIds`` starts from the accounts the run read
  (``Target.apply``'s ``accounts``), finds the others by name (one filtered read each, or one walk
  of all users when many are needed) and learns the ids of what it creates.
- An account the plan renames (its email changed in the IdP: ``plan.identity``) is found by the
  name it has now (``user_name_now``), or by its new one when an earlier try renamed it already;
  its update replaces ``userName`` and ``emails`` in one ``PATCH`` of the same SCIM id. A re-enable
  of that account (same stage, sent concurrently) looks under both names; should the rename land
  between its two reads, it fails as not found and the next run plans it again.
- A 409 on a create is checked with a filtered read (never a second create): already true when the
  account is there and active. A 404 on a disable, a removal or a group deletion is already true.
- With the connection's ``verified_domains``, an email outside them is refused before any request
  (``RefusedDomainError``, as Atlassian's own 400 ``invalidValue`` would be).
- Users are never deleted: the rules cannot ask it for this target (``settings.checks``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluence_provisioning.apply.actions import ALREADY_TRUE, APPLIED, DRY_RUN, Outcome, Send
from confluence_provisioning.plan.operations import Operation, OperationKind
from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.atlassian_cloud.errors import REFUSED_DOMAIN, RefusedDomainError
from confluence_provisioning.targets.errors import ConflictError, ConfluenceError, NotFoundError

MEMBERSHIP_KINDS = frozenset({OperationKind.add_membership, OperationKind.remove_membership})
WALK_ABOVE = 100  # more unknown users than this: one walk of all users beats a read each


class ScimIds:
    """SCIM ids of users (by lower-case userName) and groups (by lower-case name), learnt as needed."""

    def __init__(self, client: ScimClient) -> None:
        self.client = client
        self._users: dict[str, str] = {}
        self._groups: dict[str, str] = {}
        self._walked = False
        self._lock = threading.Lock()

    def remember_user(self, name: str, scim_id: str) -> None:
        with self._lock:
            self._users[name.lower()] = scim_id

    def know_users(self, accounts: Mapping[str, str]) -> None:
        """Ids the run read already (lower-case userName -> SCIM id): no read to find those."""
        with self._lock:
            self._users.update({name.lower(): scim_id for name, scim_id in accounts.items()})

    def remember_group(self, name: str, scim_id: str) -> None:
        with self._lock:
            self._groups[name.lower()] = scim_id

    def users(self, names: Sequence[str]) -> dict[str, str]:
        """The ids of those of ``names`` the directory has."""
        keys = [name.lower() for name in names]
        with self._lock:
            unknown = [key for key in keys if key not in self._users]
            walk = len(unknown) > WALK_ABOVE and not self._walked
        if walk:
            found = {user.user_name.lower(): user.id for user in self.client.users()}
            with self._lock:
                self._users.update(found)
                self._walked = True
        else:
            for key in unknown:
                user = self.client.find_user(user_name=key)
                if user is not None:
                    self.remember_user(key, user.id)
        with self._lock:
            return {key: self._users[key] for key in keys if key in self._users}

    def user(self, name: str) -> str | None:
        return self.users([name]).get(name.lower())

    def group(self, name: str) -> str | None:
        key = name.lower()
        with self._lock:
            known = self._groups.get(key)
        if known is None:
            group = self.client.find_group(name)
            if group is not None:
                self.remember_group(key, group.id)
                known = group.id
        return known


class CloudPerformer:
    def __init__(self, client: ScimClient, verified_domains: frozenset[str] = frozenset()) -> None:
        self.client = client
        self.ids = ScimIds(client)
        self.verified_domains = verified_domains

    @property
    def dry_run(self) -> bool:
        return self.client.dry_run

    @property
    def recorded_requests(self) -> Sequence[Any]:
        return self.client.recorded_requests

    def units(self, operations: Sequence[Operation]) -> list[list[Operation]]:
        singles: list[list[Operation]] = []
        by_group: dict[tuple[OperationKind, str], list[Operation]] = {}
        for operation in operations:
            if operation.kind in MEMBERSHIP_KINDS:
                by_group.setdefault((operation.kind, (operation.group or "").lower()), []).append(operation)
            else:
                singles.append([operation])
        size = self.client.member_batch
        batches = [
            ops[start : start + size] for ops in by_group.values() for start in range(0, len(ops), size)
        ]
        return singles + batches

    def perform(self, unit: Sequence[Operation], send: Send) -> list[Outcome | ConfluenceError]:
        first = unit[0]
        if first.kind in MEMBERSHIP_KINDS:
            return self._members(unit, send)
        return [self._one(first, send)]

    def _one(self, operation: Operation, send: Send) -> Outcome:
        name, payload = operation.target, operation.payload
        match operation.kind:
            case OperationKind.create_group:
                return self._create_group(name, send)
            case OperationKind.create_user:
                return self._create_user(operation, send)
            case OperationKind.update_user:
                return self._update_user(name, payload, send)
            case OperationKind.reenable_user | OperationKind.disable_user:
                active = operation.kind is OperationKind.reenable_user
                return self._set_active(name, payload.get("user_name_now"), active, send)
            case OperationKind.delete_group:
                return self._delete_group(name, send)
            case _:
                raise ConfluenceError(
                    operation.kind.value.replace("_", " "), name, None, "not supported by Atlassian Cloud"
                )

    # -- groups ----------------------------------------------------------------------------------

    def _create_group(self, name: str, send: Send) -> Outcome:
        try:
            outcome, group_id = _created(send, lambda: self.client.create_group(name))
        except ConflictError as error:
            if self.ids.group(name) is None:
                raise _unconfirmed(error, name, f"no group {name} can be read back") from None
            return Outcome(ALREADY_TRUE, error.status)
        if group_id:
            self.ids.remember_group(name, group_id)
        return outcome

    def _delete_group(self, name: str, send: Send) -> Outcome:
        group_id = self.ids.group(name)
        if group_id is None:
            return Outcome(ALREADY_TRUE, None)
        try:
            return _outcome(send(lambda: self.client.delete_group(group_id, target=name)))
        except NotFoundError as error:
            return Outcome(ALREADY_TRUE, error.status)

    def _members(self, unit: Sequence[Operation], send: Send) -> list[Outcome | ConfluenceError]:
        """One PATCH for the unit's members; a member the directory lacks fails alone (an addition)
        or is already gone (a removal). A dry run names what it cannot resolve as ``<name>``."""
        first = unit[0]
        group = first.group or ""
        add = first.kind is OperationKind.add_membership
        action = "add member" if add else "remove member"
        group_id = self.ids.group(group) or (f"<{group}>" if self.dry_run else None)
        if group_id is None:
            if not add:
                return [Outcome(ALREADY_TRUE, None)] * len(unit)
            raise NotFoundError(action + "s", f"group {group}", None, f"no group {group} in the directory")
        found = self.ids.users([operation.target for operation in unit])
        results: list[Outcome | ConfluenceError | None] = []
        member_ids = []
        for operation in unit:
            key = operation.target.lower()
            if key in found or self.dry_run:
                member_ids.append(found.get(key, f"<{key}>"))
                results.append(None)  # decided by the PATCH
            elif add:
                where = f"user {operation.target} in group {group}"
                results.append(
                    NotFoundError(action, where, None, f"no user {operation.target} in the directory")
                )
            else:
                results.append(Outcome(ALREADY_TRUE, None))
        if member_ids:
            target = f"{len(member_ids)} members of group {group}"
            change = self.client.change_members
            sent = _outcome(send(lambda: change(group_id, member_ids, add=add, target=target)[0]))
            results = [sent if result is None else result for result in results]
        return [result for result in results if result is not None]

    # -- users -----------------------------------------------------------------------------------

    def _create_user(self, operation: Operation, send: Send) -> Outcome:
        name, payload = operation.target, operation.payload
        email = payload.get("email") or name
        self._check_domain("create user", name, email)
        display_name, external_id = payload.get("full_name") or name, payload.get("external_id")
        try:
            outcome, user_id = _created(
                send, lambda: self.client.create_user(name, email, display_name, external_id=external_id)
            )
        except ConflictError as error:
            user = self.client.find_user(user_name=name)
            if user is None:
                raise _unconfirmed(error, name, f"no user {name} can be read back") from None
            self.ids.remember_user(name, user.id)
            if not user.active:
                problem = f"user {name} is deactivated (the next run re-enables it if users.operations allow)"
                raise _unconfirmed(error, name, problem) from None
            return Outcome(ALREADY_TRUE, error.status)
        if user_id:
            self.ids.remember_user(name, user_id)
        return outcome

    def _update_user(self, name: str, payload: Any, send: Send) -> Outcome:
        operations: list[dict[str, Any]] = []
        name_now = payload.get("user_name_now")
        if name_now and name_now != name:
            operations.append({"op": "replace", "path": "userName", "value": name})
        if payload.get("full_name"):
            operations.append({"op": "replace", "path": "displayName", "value": payload["full_name"]})
        if payload.get("email"):
            self._check_domain("update user", name, payload["email"])
            emails = [{"value": payload["email"], "type": "work", "primary": True}]
            operations.append({"op": "replace", "path": "emails", "value": emails})
        user_id = self._user_id("update user", name, name_now)
        outcome = _outcome(send(lambda: self.client.patch_user(user_id, operations, target=name)))
        if not self.dry_run:
            self.ids.remember_user(name, user_id)  # renamed: later stages address it by its new name
        return outcome

    def _set_active(self, name: str, name_now: str | None, active: bool, send: Send) -> Outcome:
        operation = "enable user" if active else "disable user"
        user_id = self._find_user(name, name_now)
        if user_id is None:
            if not active:
                return Outcome(ALREADY_TRUE, None)  # gone: nothing left to disable
            raise NotFoundError(operation, name, None, f"no user {name} in the directory")
        try:
            return _outcome(send(lambda: self.client.set_active(user_id, active, target=name)))
        except NotFoundError as error:
            if active:
                raise
            return Outcome(ALREADY_TRUE, error.status)

    def _find_user(self, name: str, name_now: str | None) -> str | None:
        """The SCIM id of ``name``, or of the account a rename in this plan is to give that name."""
        if not name_now:
            return self.ids.user(name)
        return self.ids.user(name_now) or self.ids.user(name)

    def _user_id(self, operation: str, name: str, name_now: str | None = None) -> str:
        user_id = self._find_user(name, name_now)
        if user_id is None:
            if self.dry_run:
                return f"<{name}>"
            raise NotFoundError(operation, name, None, f"no user {name} in the directory")
        return user_id

    def _check_domain(self, operation: str, name: str, email: str) -> None:
        domain = email.rpartition("@")[2].lower()
        if self.verified_domains and domain not in self.verified_domains:
            raise RefusedDomainError(
                operation,
                name,
                None,
                f"the email {email} is {REFUSED_DOMAIN} of the organization "
                f"({', '.join(sorted(self.verified_domains))}); not sent",
            )


def _created(send: Send, create: Callable[[], tuple[int | None, str | None]]) -> tuple[Outcome, str | None]:
    """Send a create; its outcome and the new resource's SCIM id (None in a dry run)."""
    created: list[str] = []

    def request() -> int | None:
        status, scim_id = create()
        if scim_id:
            created.append(scim_id)
        return status

    outcome = _outcome(send(request))
    return outcome, created[-1] if created else None


def _unconfirmed(error: ConflictError, name: str, problem: str) -> ConflictError:
    """A 409 on a create that a read does not confirm: the operation failed, and why."""
    return ConflictError(error.operation, name, error.status, f"{error.server_message}, but {problem}")


def _outcome(http_status: int | None) -> Outcome:
    return Outcome(DRY_RUN, None) if http_status is None else Outcome(APPLIED, http_status)
