"""The emulated Okta org's directory: users with status and profile, groups, members, in memory.

Every public method takes the directory's lock, so the HTTP server's thread and a test's thread can
both use it. Ids grow with creation (`00u…` users, `00g…` groups) and every list the API pages
through is kept sorted by id, so a page is a `bisect` to the `after` cursor and a forward scan.

Timestamps (`created`, `lastUpdated`, ...) are the org's clock in Okta's format
(`2024-05-01T10:00:00.000Z`), never decreasing. A profile or status change moves the user's
`lastUpdated`; adding or removing a member moves the group's `lastMembershipUpdated`; creating or
deleting a user also moves it on the built-in `Everyone` group, which holds every user.

State JSON (`dump()`, `load()`, `GET/PUT /__emulator/state`, the `--state` file)::

    {
      "version": 1,
      "users": [{"id": "00u...", "status": "ACTIVE", "created": "...", "activated": "...",
                 "statusChanged": "...", "lastUpdated": "...",
                 "profile": {"login": "a@example.com", "email": "a@example.com",
                             "firstName": "A", "lastName": "B", "displayName": "A B"}}],
      "groups": [{"id": "00g...", "type": "OKTA_GROUP", "created": "...", "lastUpdated": "...",
                  "lastMembershipUpdated": "...", "profile": {"name": "eng", "description": ""},
                  "members": ["00u..."]}]
    }

On load the timestamps and ids may be left out (they are made), `Everyone` is added when missing
and its `members` are ignored (it always holds every user); a bad state leaves the directory as
it was.
"""

from __future__ import annotations

import bisect
import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.okta.errors import OktaError, not_found, validation_failed

STATE_VERSION = 1
USER_STATUSES = (
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
)
GROUP_TYPES = ("OKTA_GROUP", "APP_GROUP", "BUILT_IN")
EVERYONE = "Everyone"
TAKEN = "An object with this field already exists in the current organization"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # in ASCII order


@dataclass(slots=True)
class OktaUser:
    id: str
    status: str
    profile: dict[str, Any]
    created: str
    last_updated: str
    activated: str | None = None
    status_changed: str | None = None

    def attribute(self, name: str) -> Any:
        """The value a filter or search names: `status`, `lastUpdated`, `profile.login`, ..."""
        if name.startswith("profile."):
            return self.profile.get(name[8:])
        return _USER_FIELDS[name](self) if name in _USER_FIELDS else None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "created": self.created,
            "activated": self.activated,
            "statusChanged": self.status_changed,
            "lastLogin": None,
            "lastUpdated": self.last_updated,
            "passwordChanged": None,
            "type": {"id": "oty1defaultusertype0"},
            "profile": dict(self.profile),
        }


_USER_FIELDS: dict[str, Callable[[OktaUser], Any]] = {
    "id": lambda user: user.id,
    "status": lambda user: user.status,
    "created": lambda user: user.created,
    "activated": lambda user: user.activated,
    "statusChanged": lambda user: user.status_changed,
    "lastUpdated": lambda user: user.last_updated,
}


@dataclass(slots=True)
class OktaGroup:
    id: str
    type: str
    name: str
    description: str
    created: str
    last_updated: str
    last_membership_updated: str
    members: list[str] = field(default_factory=list)  # user ids, sorted; unused for Everyone

    def attribute(self, name: str) -> Any:
        return {
            "id": self.id,
            "type": self.type,
            "created": self.created,
            "lastUpdated": self.last_updated,
            "lastMembershipUpdated": self.last_membership_updated,
            "profile.name": self.name,
            "profile.description": self.description,
        }.get(name)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "lastUpdated": self.last_updated,
            "lastMembershipUpdated": self.last_membership_updated,
            "objectClass": [
                "okta:windows_security_principal" if self.type == "APP_GROUP" else "okta:user_group"
            ],
            "type": self.type,
            "profile": {"name": self.name, "description": self.description},
        }


class Clock:
    """The org's time in Okta's format; never goes backwards, whatever the machine's clock does."""

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> str:
        millis = max(int(time.time() * 1000), self._last)
        self._last = millis
        return format_time(millis)


def format_time(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


class Directory:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.clock = Clock()
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """An empty org: no users, only the built-in `Everyone` group."""
        with self._lock:
            self._users: dict[str, OktaUser] = {}
            self._user_ids: list[str] = []  # sorted
            self._logins: dict[str, str] = {}  # lower-case login -> id
            self._groups: dict[str, OktaGroup] = {}
            self._group_ids: list[str] = []  # sorted
            self._sequence = itertools.count(1)
            self.revision = 0
            now = self.clock.now()
            everyone = OktaGroup(
                self._new_id("00g"), "BUILT_IN", EVERYONE, "All users in your organization", now, now, now
            )
            self._add_group(everyone)
            self.everyone = everyone

    def _new_id(self, prefix: str) -> str:
        """`prefix` + 17 characters; later ids sort after earlier ones."""
        number, digits = next(self._sequence), []
        for _ in range(11):
            number, digit = divmod(number, 62)
            digits.append(_BASE62[digit])
        return prefix + "".join(reversed(digits)) + "".join(secrets.choice(_BASE62) for _ in range(6))

    def _changed(self) -> None:
        self.revision += 1

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self, profile: dict[str, Any], status: str = "ACTIVE", user_id: str | None = None
    ) -> OktaUser:
        """A new user; 400 when `login` is missing or taken, or the status is unknown."""
        with self._lock:
            login = profile.get("login")
            if not isinstance(login, str) or not login:
                raise validation_failed("login", "The field cannot be left blank")
            if login.lower() in self._logins:
                raise validation_failed("login", TAKEN)
            _check_status(status)
            now = self.clock.now()
            user = OktaUser(
                user_id or self._new_id("00u"),
                status,
                dict(profile),
                now,
                now,
                activated=None if status in ("STAGED", "PROVISIONED") else now,
                status_changed=now,
            )
            if user.id in self._users:
                raise validation_failed("id", TAKEN)
            self._users[user.id] = user
            bisect.insort(self._user_ids, user.id)
            self._logins[login.lower()] = user.id
            self.everyone.last_membership_updated = now
            self._changed()
            return user

    def user(self, id_or_login: str) -> OktaUser:
        """By id, or by login (ignoring case), as `GET /api/v1/users/{id}` takes either."""
        with self._lock:
            user = self._users.get(id_or_login)
            if user is None:
                user_id = self._logins.get(id_or_login.lower())
                user = self._users.get(user_id) if user_id else None
            if user is None:
                raise not_found("User", id_or_login)
            return user

    def update_profile(self, id_or_login: str, changes: dict[str, Any]) -> OktaUser:
        """Merge `changes` into the profile (a None value removes the attribute)."""
        with self._lock:
            user = self.user(id_or_login)
            login = changes.get("login", user.profile.get("login"))
            if not isinstance(login, str) or not login:
                raise validation_failed("login", "The field cannot be left blank")
            owner = self._logins.get(login.lower())
            if owner is not None and owner != user.id:
                raise validation_failed("login", TAKEN)
            del self._logins[str(user.profile["login"]).lower()]
            self._logins[login.lower()] = user.id
            for key, value in changes.items():
                if value is None:
                    user.profile.pop(key, None)
                else:
                    user.profile[key] = value
            user.last_updated = self.clock.now()
            self._changed()
            return user

    def set_status(self, id_or_login: str, status: str) -> OktaUser:
        with self._lock:
            _check_status(status)
            user = self.user(id_or_login)
            if user.status != status:
                now = self.clock.now()
                user.status, user.status_changed, user.last_updated = status, now, now
                if status == "ACTIVE" and user.activated is None:
                    user.activated = now
                self._changed()
            return user

    def delete_user(self, id_or_login: str) -> None:
        """Gone for good, with its memberships (each group's `lastMembershipUpdated` moves)."""
        with self._lock:
            user = self.user(id_or_login)
            now = self.clock.now()
            for group in self._groups.values():
                if _discard(group.members, user.id):
                    group.last_membership_updated = now
            del self._users[user.id]
            _discard(self._user_ids, user.id)
            del self._logins[str(user.profile["login"]).lower()]
            self.everyone.last_membership_updated = now
            self._changed()

    def users_page(
        self, after: str | None, limit: int, keep: Callable[[OktaUser], bool]
    ) -> tuple[list[OktaUser], bool]:
        """Up to `limit` users with ids after `after` that `keep` accepts; and whether more may follow."""
        with self._lock:
            return _page(self._user_ids, self._users, after, limit, keep)

    @property
    def user_count(self) -> int:
        return len(self._users)

    # -- groups ------------------------------------------------------------------------------

    def create_group(self, name: str, group_type: str = "OKTA_GROUP", description: str = "") -> OktaGroup:
        with self._lock:
            if group_type not in ("OKTA_GROUP", "APP_GROUP"):
                raise validation_failed("type", f"must be OKTA_GROUP or APP_GROUP, not {group_type!r}")
            if not name:
                raise validation_failed("name", "The field cannot be left blank")
            if any(group.name == name and group.type == group_type for group in self._groups.values()):
                raise validation_failed("name", TAKEN)
            now = self.clock.now()
            group = OktaGroup(self._new_id("00g"), group_type, name, description, now, now, now)
            self._add_group(group)
            self._changed()
            return group

    def _add_group(self, group: OktaGroup) -> None:
        self._groups[group.id] = group
        bisect.insort(self._group_ids, group.id)

    def group(self, id_or_name: str) -> OktaGroup:
        """By id, or by exact name when no id matches (for tests and the admin routes)."""
        with self._lock:
            group = self._groups.get(id_or_name) or next(
                (group for group in self._groups.values() if group.name == id_or_name), None
            )
            if group is None:
                raise not_found("UserGroup", id_or_name)
            return group

    def rename_group(self, id_or_name: str, name: str, description: str | None = None) -> OktaGroup:
        with self._lock:
            group = self._writable(id_or_name)
            group.name = name
            if description is not None:
                group.description = description
            group.last_updated = self.clock.now()
            self._changed()
            return group

    def delete_group(self, id_or_name: str) -> None:
        with self._lock:
            group = self._writable(id_or_name)
            del self._groups[group.id]
            _discard(self._group_ids, group.id)
            self._changed()

    def add_member(self, group_id_or_name: str, user_id_or_login: str) -> None:
        with self._lock:
            group, user = self._writable(group_id_or_name), self.user(user_id_or_login)
            at = bisect.bisect_left(group.members, user.id)
            if at == len(group.members) or group.members[at] != user.id:
                group.members.insert(at, user.id)
                group.last_membership_updated = self.clock.now()
                self._changed()

    def remove_member(self, group_id_or_name: str, user_id_or_login: str) -> None:
        with self._lock:
            group, user = self._writable(group_id_or_name), self.user(user_id_or_login)
            if _discard(group.members, user.id):
                group.last_membership_updated = self.clock.now()
                self._changed()

    def _writable(self, id_or_name: str) -> OktaGroup:
        group = self.group(id_or_name)
        if group.type == "BUILT_IN":
            raise OktaError(403, "E0000006", "You do not have permission to perform the requested action")
        return group

    def groups_page(
        self, after: str | None, limit: int, keep: Callable[[OktaGroup], bool]
    ) -> tuple[list[OktaGroup], bool]:
        with self._lock:
            return _page(self._group_ids, self._groups, after, limit, keep)

    def members_page(self, group_id: str, after: str | None, limit: int) -> tuple[list[OktaUser], bool]:
        """A page of the group's members (every user for `Everyone`), by id; 404 for no such group."""
        with self._lock:
            group = self._groups.get(group_id)
            if group is None:
                raise not_found("UserGroup", group_id)
            ids = self._user_ids if group is self.everyone else group.members
            return _page(ids, self._users, after, limit, lambda _: True)

    def member_count(self, group_id: str) -> int:
        with self._lock:
            group = self._groups[group_id]
            return len(self._user_ids if group is self.everyone else group.members)

    def member_ids(self, group_id_or_name: str) -> list[str]:
        with self._lock:
            group = self.group(group_id_or_name)
            return list(self._user_ids if group is self.everyone else group.members)

    # -- state JSON --------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        with self._lock:
            users = [self._users[user_id].as_json() for user_id in self._user_ids]
            groups = []
            for group_id in self._group_ids:
                group = self._groups[group_id]
                body = group.as_json()
                del body["objectClass"]
                if group is not self.everyone:
                    body["members"] = list(group.members)
                groups.append(body)
            return {"version": STATE_VERSION, "users": users, "groups": groups}

    def load(self, state: dict[str, Any]) -> None:
        """Replace everything with `state` (see the module docstring); ValueError when it is unusable."""
        with self._lock:
            saved = self.__dict__.copy()
            try:
                self._load(state)
            except (KeyError, TypeError, ValueError, OktaError) as exc:
                self.__dict__.update(saved)
                raise ValueError(f"bad state: {exc!r}") from None

    def _load(self, state: dict[str, Any]) -> None:
        if state.get("version", STATE_VERSION) != STATE_VERSION:
            raise ValueError(f"state version {state.get('version')!r}, expected {STATE_VERSION}")
        self.reset()
        for raw in state.get("users", ()):
            user = self.create_user(dict(raw["profile"]), raw.get("status", "ACTIVE"), raw.get("id"))
            for attribute, key in (
                ("created", "created"),
                ("activated", "activated"),
                ("status_changed", "statusChanged"),
                ("last_updated", "lastUpdated"),
            ):
                if key in raw:
                    setattr(user, attribute, raw[key])
        for raw in state.get("groups", ()):
            if raw.get("type") == "BUILT_IN":
                self._restore(self.everyone, raw)
                continue
            profile = raw.get("profile", {})
            group = self.create_group(
                profile["name"], raw.get("type", "OKTA_GROUP"), profile.get("description", "")
            )
            self._restore(group, raw)
            for user_id in raw.get("members", ()):
                self.add_member(group.id, user_id)
            group.last_membership_updated = raw.get("lastMembershipUpdated", group.last_membership_updated)

    def _restore(self, group: OktaGroup, raw: dict[str, Any]) -> None:
        """The id and timestamps the state gives."""
        if "id" in raw:
            del self._groups[group.id]
            _discard(self._group_ids, group.id)
            group.id = raw["id"]
            self._add_group(group)
        group.created = raw.get("created", group.created)
        group.last_updated = raw.get("lastUpdated", group.last_updated)
        group.last_membership_updated = raw.get("lastMembershipUpdated", group.last_membership_updated)

    def users(self) -> Iterable[OktaUser]:
        with self._lock:
            return [self._users[user_id] for user_id in self._user_ids]

    def groups(self) -> Iterable[OktaGroup]:
        with self._lock:
            return [self._groups[group_id] for group_id in self._group_ids]


def _check_status(status: str) -> None:
    if status not in USER_STATUSES:
        raise validation_failed("status", f"must be one of {', '.join(USER_STATUSES)}, not {status!r}")


def _discard(ordered: list[str], item: str) -> bool:
    at = bisect.bisect_left(ordered, item)
    if at < len(ordered) and ordered[at] == item:
        del ordered[at]
        return True
    return False


def _page(
    ids: list[str], objects: dict[str, Any], after: str | None, limit: int, keep: Callable[[Any], bool]
) -> tuple[list[Any], bool]:
    """Up to `limit` kept objects after the cursor, and whether any id is left after the last one."""
    at = bisect.bisect_right(ids, after) if after else 0
    found: list[Any] = []
    while at < len(ids) and len(found) < limit:
        item = objects[ids[at]]
        at += 1
        if keep(item):
            found.append(item)
    return found, at < len(ids)
