"""The emulated site's directory: users, groups, memberships and licence seats, in memory.

Every public method takes the directory's lock, so the HTTP server's thread and a test's thread
can both use it. Lookups are dict look-ups by lower-case name; every list the API pages through
(users, groups, each group's members) is a sorted list kept up to date on write (`bisect`), so a
page is a slice and nothing scans the whole site per request.

State JSON (`dump()`, `load()`, `GET/PUT /__emulator/state`, the `--state` file)::

    {
      "version": 1,
      "users": [
        {"username": "alice", "userKey": "8a7f8...", "displayName": "Alice Smith",
         "email": "alice@example.com", "active": true, "password": "secret"}
      ],
      "groups": ["confluence-administrators", "confluence-users", "eng"],
      "memberships": {"confluence-users": ["admin", "alice"], "eng": ["alice"]},
      "tokens": {"some-token": "admin"}
    }

On load, `userKey` (a random 32-hex key), `email` (""), `active` (true), `password` (none: the
user cannot log in), `memberships` and `tokens` may be left out; group and user names are matched
case-insensitively and stored as lower case; a membership naming an unknown user or group is an
error, and a malformed state leaves the directory as it was. So that a loaded site can always be
administered, the configured admin account is added when missing, always logs in with the
configured password, and is made a member of `confluence-administrators` (added when missing).
`dump()` after `load(x)` gives `x` back when `x` already satisfies that.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import hmac
import random
import secrets
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.confluence.errors import ApiError

ADMIN_GROUP = "confluence-administrators"
USERS_GROUP = "confluence-users"
RESERVED_GROUPS = (ADMIN_GROUP, USERS_GROUP)
# Groups whose loss would lock every administrator out; the last of them cannot be deleted.
ADMIN_GROUPS = frozenset({ADMIN_GROUP})
STATE_VERSION = 1


@dataclass(slots=True)
class User:
    username: str
    user_key: str
    display_name: str
    email: str
    active: bool = True
    password: str | None = None


_key_source = random.Random()


def new_user_key() -> str:
    """32 hex digits, like Confluence's user keys (not secret, so a fast generator will do)."""
    return f"{_key_source.getrandbits(128):032x}"


def _insert(ordered: list[str], name: str) -> bool:
    """Insert into a sorted list; False when already there."""
    at = bisect.bisect_left(ordered, name)
    if at < len(ordered) and ordered[at] == name:
        return False
    ordered.insert(at, name)
    return True


def _remove(ordered: list[str], name: str) -> bool:
    at = bisect.bisect_left(ordered, name)
    if at < len(ordered) and ordered[at] == name:
        del ordered[at]
        return True
    return False


class Directory:
    """Users, groups and memberships of one site, with the licence seat count."""

    def __init__(self, admin_user: str = "admin", admin_password: str = "admin", seats: int | None = None):
        self.lock = threading.RLock()
        self.admin_user = admin_user.lower()
        self.admin_password = admin_password
        self.seats = seats
        # Bumped on every write so the state file is only rewritten when something changed.
        self.revision = 0
        self._clear()
        self._ensure_site()

    # -- whole-site operations ---------------------------------------------------------------

    def _clear(self) -> None:
        self._users: dict[str, User] = {}
        self._by_key: dict[str, User] = {}
        self._user_order: list[str] = []
        self._members: dict[str, list[str]] = {}  # group -> sorted member names
        self._group_order: list[str] = []
        self._groups_of: dict[str, set[str]] = {}  # user -> group names
        self._active = 0
        self.tokens: dict[str, str] = {}  # personal access token -> username

    def _ensure_site(self, groups: tuple[str, ...] = RESERVED_GROUPS) -> None:
        """`groups` exist with the admin account in them (all reserved groups on a fresh site)."""
        self._ensure_admin()
        for group in groups:
            if group not in self._members:
                self._members[group] = []
                _insert(self._group_order, group)
            self._add_member(self.admin_user, group)

    def _ensure_admin(self) -> None:
        """The configured admin account exists and logs in with the configured password."""
        admin = self._users.get(self.admin_user)
        if admin is None:
            admin = User(self.admin_user, new_user_key(), self.admin_user, f"{self.admin_user}@example.com")
            self._add_user(admin)
        admin.password = self.admin_password

    def reset(self) -> None:
        """Back to a fresh site: the reserved groups and the admin account only."""
        with self.lock:
            self._clear()
            self._ensure_site()
            self.revision += 1

    def dump(self) -> dict[str, Any]:
        """The whole directory in the state JSON format (see the module docstring)."""
        with self.lock:
            users = []
            for name in self._user_order:
                user = self._users[name]
                row: dict[str, Any] = {
                    "username": user.username,
                    "userKey": user.user_key,
                    "displayName": user.display_name,
                    "email": user.email,
                    "active": user.active,
                }
                if user.password is not None:
                    row["password"] = user.password
                users.append(row)
            return {
                "version": STATE_VERSION,
                "users": users,
                "groups": list(self._group_order),
                "memberships": {group: list(members) for group, members in self._members.items() if members},
                "tokens": dict(self.tokens),
            }

    def load(self, data: Any) -> None:
        """Replace the whole directory with `data` (state JSON).

        ApiError 400 when it is malformed, and then the directory is left as it was.
        """
        with _gc_paused():
            self._load(data)

    def _load(self, data: Any) -> None:
        try:
            users, groups, memberships, tokens = _parse_state(data)
            known_users = {user.username.lower() for user in users} | {self.admin_user}
            _check_memberships(memberships, known_users, groups | {ADMIN_GROUP})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ApiError(400, f"Invalid state: {exc}") from exc
        with self.lock:
            self._clear()
            # Built in bulk and sorted once: inserting 100,000 users one by one would be quadratic.
            self._users = {user.username.lower(): user for user in users}
            self._by_key = {user.user_key: user for user in users}
            self._user_order = sorted(self._users)
            self._groups_of = {name: set() for name in self._user_order}
            self._active = sum(user.active for user in users)
            self._ensure_admin()
            self._group_order = sorted(groups | {ADMIN_GROUP})
            self._members = {group: [] for group in self._group_order}
            for group, names in memberships.items():
                self._members[group] = sorted(names)
                for name in names:
                    self._groups_of[name].add(group)
            self.tokens = tokens
            self._ensure_site((ADMIN_GROUP,))
            self.revision += 1

    # -- users -------------------------------------------------------------------------------

    def _add_user(self, user: User) -> None:
        key = user.username.lower()
        self._users[key] = user
        self._by_key[user.user_key] = user
        self._groups_of[key] = set()
        _insert(self._user_order, key)
        self._active += user.active

    def user(self, username: str) -> User:
        found = self._users.get(username.lower())
        if found is None:
            raise ApiError(404, f"No user found with username: {username}")
        return found

    def user_by_key(self, user_key: str) -> User:
        found = self._by_key.get(user_key)
        if found is None:
            raise ApiError(404, f"No user found with key: {user_key}")
        return found

    def create_user(self, username: str, display_name: str, email: str, password: str | None) -> User:
        """Create an active user; the caller has validated the input. 409 when taken, 402 when no seat."""
        with self.lock:
            if username.lower() in self._users:
                raise ApiError(409, f"A user with username {username} already exists")
            if self.seats is not None and self._active >= self.seats:
                raise ApiError(402, f"No more licences available: the licence allows {self.seats} users")
            user = User(username, new_user_key(), display_name, email, password=password)
            self._add_user(user)
            self.revision += 1
            return user

    def update_user(self, username: str, display_name: str | None, email: str | None) -> None:
        with self.lock:
            user = self.user(username)
            if display_name is not None:
                user.display_name = display_name
            if email is not None:
                user.email = email
            self.revision += 1

    def set_active(self, username: str, active: bool) -> None:
        """Disable or enable; doing it twice is not an error. A disabled user frees its seat."""
        with self.lock:
            user = self.user(username)
            if user.active != active:
                user.active = active
                self._active += 1 if active else -1
                self.revision += 1

    def delete_user(self, username: str) -> None:
        with self.lock:
            user = self.user(username)
            key = user.username.lower()
            for group in self._groups_of.pop(key):
                _remove(self._members[group], key)
            del self._users[key]
            del self._by_key[user.user_key]
            _remove(self._user_order, key)
            self._active -= user.active
            self.tokens = {token: owner for token, owner in self.tokens.items() if owner != key}
            self.revision += 1

    def users_page(self, start: int, limit: int) -> tuple[list[User], int]:
        with self.lock:
            names = self._user_order[start : start + limit]
            return [self._users[name] for name in names], len(self._user_order)

    @property
    def active_users(self) -> int:
        """Seats in use: every active user takes one."""
        return self._active

    # -- groups ------------------------------------------------------------------------------

    def group(self, name: str) -> str:
        """The stored (lower-case) name of an existing group; 404 when there is none."""
        key = name.lower()
        if key not in self._members:
            raise ApiError(404, f"Group not found: {name}")
        return key

    def create_group(self, name: str) -> str:
        with self.lock:
            key = name.lower()
            if key in self._members:
                raise ApiError(409, f"Group already exists: {key}")
            self._members[key] = []
            _insert(self._group_order, key)
            self.revision += 1
            return key

    def delete_group(self, name: str) -> None:
        with self.lock:
            key = self.group(name)
            if key in ADMIN_GROUPS and len(ADMIN_GROUPS & self._members.keys()) == 1:
                raise ApiError(400, f"Cannot delete the last administrators group: {key}")
            for member in self._members.pop(key):
                self._groups_of[member].discard(key)
            _remove(self._group_order, key)
            self.revision += 1

    def groups_page(self, start: int, limit: int) -> tuple[list[str], int]:
        with self.lock:
            return self._group_order[start : start + limit], len(self._group_order)

    # -- memberships -------------------------------------------------------------------------

    def _add_member(self, username: str, group: str) -> bool:
        if _insert(self._members[group], username):
            self._groups_of[username].add(group)
            return True
        return False

    def add_member(self, username: str, group: str) -> None:
        """Idempotent: adding an existing member changes nothing. 404 for an unknown user or group."""
        with self.lock:
            key = self.user(username).username.lower()
            if self._add_member(key, self.group(group)):
                self.revision += 1

    def remove_member(self, username: str, group: str) -> None:
        """Idempotent: removing a non-member changes nothing. 404 for an unknown user or group."""
        with self.lock:
            key = self.user(username).username.lower()
            group_key = self.group(group)
            if _remove(self._members[group_key], key):
                self._groups_of[key].discard(group_key)
                self.revision += 1

    def members_page(self, group: str, start: int, limit: int) -> tuple[list[User], int]:
        with self.lock:
            members = self._members[self.group(group)]
            return [self._users[name] for name in members[start : start + limit]], len(members)

    def groups_of_page(self, username: str, start: int, limit: int) -> tuple[list[str], int]:
        with self.lock:
            groups = sorted(self._groups_of[self.user(username).username.lower()])
            return groups[start : start + limit], len(groups)

    # -- authentication ----------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user these Basic credentials belong to, else None."""
        with self.lock:
            user = self._users.get(username.lower())
            if user is None or not user.active or user.password is None:
                return None
            return user if hmac.compare_digest(user.password, password) else None

    def token_user(self, token: str) -> User | None:
        """The active owner of a personal access token, else None (a wrong token is anonymous)."""
        with self.lock:
            user = self._users.get(self.tokens.get(token, ""))
            return user if user is not None and user.active else None

    def issue_token(self, username: str, token: str | None = None) -> str:
        with self.lock:
            key = self.user(username).username.lower()
            token = token or secrets.token_urlsafe(24)
            self.tokens[token] = key
            self.revision += 1
            return token

    def is_admin(self, user: User) -> bool:
        with self.lock:
            return user.active and bool(self._groups_of.get(user.username.lower(), set()) & ADMIN_GROUPS)


def _parse_state(data: Any) -> tuple[list[User], set[str], dict[str, set[str]], dict[str, str]]:
    if not isinstance(data, dict):
        raise TypeError("the state must be a JSON object")
    if data.get("version", STATE_VERSION) != STATE_VERSION:
        raise ValueError(f"unsupported version {data.get('version')!r}, expected {STATE_VERSION}")
    users = [_parse_user(row) for row in data.get("users", [])]
    names = [user.username.lower() for user in users]
    if len(set(names)) != len(names):
        raise ValueError("duplicate usernames")
    if len({user.user_key for user in users}) != len(users):
        raise ValueError("duplicate userKeys")
    groups = {str(name).lower() for name in data.get("groups", [])}
    memberships: dict[str, set[str]] = {}
    for group, members in dict(data.get("memberships", {})).items():
        memberships.setdefault(group.lower(), set()).update(_lower_all(members))
    tokens = {str(token): str(owner).lower() for token, owner in dict(data.get("tokens", {})).items()}
    return users, groups, memberships, tokens


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Without this, the cyclic collector runs over and over while a million objects are created.

    The directory holds no reference cycles, so nothing is lost by pausing it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_memberships(memberships: dict[str, set[str]], users: set[str], groups: set[str]) -> None:
    for group, names in memberships.items():
        if group not in groups:
            raise ValueError(f"membership of unknown group {group!r}")
        unknown = names - users
        if unknown:
            raise ValueError(f"unknown user {min(unknown)!r} in group {group!r}")


def _parse_user(row: dict[str, Any]) -> User:
    return User(
        username=str(row["username"]),
        user_key=str(row.get("userKey") or new_user_key()),
        display_name=str(row.get("displayName", row["username"])),
        email=str(row.get("email", "")),
        active=bool(row.get("active", True)),
        password=None if row.get("password") is None else str(row["password"]),
    )


def _lower_all(names: Iterable[Any]) -> list[str]:
    if isinstance(names, str):
        raise TypeError("members must be a list of usernames")
    return [str(name).lower() for name in names]
