"""Confluence Data Center REST client: paged reads into frames, one-request writes, dry run.

One ``Transport`` (keep-alive connections, ``transport.py``) serves every
thread and blocks when ``max_in_flight`` requests are in flight, so no caller
can have more than that. Every request goes through ``_request``, the single
place that sends, turns error answers into typed errors and, in dry run,
refuses anything but GET.

Reads fail closed: any failed page raises (after the retry policy gave up),
never "fewer users". Writes send one request and raise a typed error; the
applier decides about retries and idempotency.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import msgspec
import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.printable import printable_logger
from confluence_provisioning.targets.errors import (
    AuthError,
    ConfluenceError,
    NotFoundError,
    TransientError,
    error_from_response,
)
from confluence_provisioning.targets.retry import RetryPolicy, call_with_retry
from confluence_provisioning.targets.transport import (
    ConnectionFailed,
    Response,
    TimedOut,
    Transport,
)

log = printable_logger(__name__)

T = TypeVar("T")

# Status words of `expand=status` (Confluence answers "Active" / "Deactivated"; case varies by version).
ACTIVE_STATUSES = frozenset({"active", "current"})
INACTIVE_STATUSES = frozenset({"deactivated", "disabled", "inactive"})

# Why check_auth found an anonymous caller, by the kind of credentials the client sent.
ANONYMOUS_HINTS = {
    "token": "the personal access token was not accepted (Confluence treats a wrong or expired token "
    "as anonymous, CONFSERVER-98199): put a valid token in the connection's extra 'token'",
    "basic": "the login and password were not accepted: fix them in the connection",
    "anonymous": "no credentials were given: set a login and password, or extra 'token', in the connection",
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A write the client refused to send in dry run (the password is never kept)."""

    method: str
    path: str
    json: dict[str, Any] | None = None


class _Links(msgspec.Struct):
    base: str | None = None
    next: str | None = None


class _Entry(msgspec.Struct, rename="camel"):
    """The fields we use of a user or group object; msgspec skips everything else unparsed."""

    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    status: str | dict[str, Any] | None = None
    name: str | None = None
    type: str | None = None


class _Page(msgspec.Struct):
    results: list[_Entry]
    links: _Links = msgspec.field(name="_links", default_factory=_Links)


_decode_page = msgspec.json.Decoder(_Page).decode
_decode_entry = msgspec.json.Decoder(_Entry).decode


@dataclass(slots=True)
class _Users:
    """Column lists of the users frame, filled page by page."""

    ids: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    emails: list[str | None] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    active: list[bool] = field(default_factory=list)


class ConfluenceClient:
    """Reads and writes Confluence Data Center users, groups and memberships over REST."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10, 60),
        max_in_flight: int = 8,
        page_size: int = 200,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        long_task_timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``base_url`` includes any context path (https://wiki.example.com/confluence).

        Basic auth from ``username``/``password``, or a personal access token
        (``token``, sent as Bearer; it wins). ``retry`` governs reads (writes
        are retried by the caller); ``sleep`` is what waits between retries
        and long-task polls (tests pass a recorder); ``long_task_timeout``
        bounds how long ``delete_user`` waits for Confluence's delete task.
        """
        if max_in_flight < 1 or page_size < 1:
            raise ValueError("max_in_flight and page_size must be at least 1")
        parts = urlsplit(base_url)
        if "@" in parts.netloc:  # not echoed: it would hold a password
            raise ValueError("Confluence base URL must not carry credentials: give them as username/password")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Confluence base URL must look like https://host[/context], got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)
        self._context_path = urlsplit(self.base_url).path
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.page_size = page_size
        self.dry_run = dry_run
        self.retry = retry or RetryPolicy()
        self.long_task_timeout = long_task_timeout
        self._sleep = sleep
        self._auth_kind = "token" if token else "basic" if username else "anonymous"
        self.recorded_requests: list[RecordedRequest] = []
        self._recorded_lock = threading.Lock()
        headers = _headers(username, password, token)
        self._transport = Transport(
            self.base_url, headers, verify=verify, timeout=timeout, max_in_flight=max_in_flight
        )

    def __repr__(self) -> str:
        return (
            f"ConfluenceClient({self.base_url!r}, auth={self._auth_kind}, "
            f"max_in_flight={self.max_in_flight}, dry_run={self.dry_run})"
        )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> ConfluenceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- checks ----------------------------------------------------------------------------------

    def check_auth(self) -> str:
        """The authenticated username; AuthError when Confluence sees an anonymous caller.

        A wrong personal access token is not refused: Confluence treats it as
        anonymous (CONFSERVER-98199) and reads then succeed with little data.
        """
        response = self._get("/rest/api/user/current", operation="check authentication", target=self.base_url)
        user = self._decode(_decode_entry, response, "check authentication", self.base_url)
        if user.type == "anonymous" or not user.username:
            raise AuthError(
                "check authentication",
                self.base_url,
                response.status,
                f"Confluence sees an anonymous caller: {ANONYMOUS_HINTS[self._auth_kind]}",
            )
        return user.username

    # -- reads -----------------------------------------------------------------------------------

    def users(self) -> pd.DataFrame:
        """Every user, disabled ones included, as a frames.USERS frame (email <NA> when hidden)."""
        columns = _Users()
        for page in self._pages("/rest/api/user/list", {"expand": "status"}, "list users", ""):
            for user in page:
                if not user.username:
                    raise self._bad_answer("list users", "", f"a user without a username: {user!r}")
                columns.ids.append(user.username.lower())
                columns.logins.append(user.username)
                columns.emails.append(user.email)
                columns.names.append(user.display_name)
                columns.active.append(_is_active(user, "list users"))
        return frames.conform(
            pd.DataFrame(
                {
                    "id": columns.ids,
                    "dn": [""] * len(columns.ids),
                    "login": columns.logins,
                    "email": pd.array(columns.emails, dtype="string"),
                    "display_name": columns.names,
                    "active": columns.active,
                }
            ),
            frames.USERS,
        )

    def groups(self) -> pd.DataFrame:
        """Every group as a frames.GROUPS frame."""
        names = self._group_names()
        return frames.conform(
            pd.DataFrame({"id": [name.lower() for name in names], "dn": [""] * len(names), "name": names}),
            frames.GROUPS,
        )

    def members(self, group: str) -> list[str]:
        """Usernames of the group's members, page by page."""
        path = f"/rest/api/group/{_segment(group)}/member"
        members = []
        for page in self._pages(path, {}, "list members", group):
            for user in page:
                if not user.username:
                    raise self._bad_answer("list members", group, f"a member without a username: {user!r}")
                members.append(user.username)
        return members

    def groups_of(self, username: str) -> list[str]:
        """The names of the groups the user is a member of, page by page."""
        params = {"username": username}
        return [
            group.name
            for page in self._pages("/rest/api/user/memberof", params, "list groups of user", username)
            for group in page
            if group.name
        ]

    def user(self, username: str) -> dict[str, Any] | None:
        """The user as a row of ``users()`` (email None when hidden); None when Confluence has none."""
        params = {"username": username, "expand": "status"}
        try:
            response = self._get("/rest/api/user", operation="read user", target=username, params=params)
        except NotFoundError:
            return None
        user = self._decode(_decode_entry, response, "read user", username)
        if not user.username:
            raise self._bad_answer("read user", username, f"a user without a username: {user!r}")
        return {
            "id": user.username.lower(),
            "dn": "",
            "login": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "active": _is_active(user, "read user"),
        }

    def group_exists(self, name: str) -> bool:
        """Whether Confluence has the group: one member page of one, however big the group is.

        The member list, not ``GET /rest/api/group/{name}``: only the former documents a 404
        for an unknown group.
        """
        path = f"/rest/api/group/{_segment(name)}/member"
        params = {"start": "0", "limit": "1"}
        try:
            response = self._get(path, operation="read group", target=name, params=params)
        except NotFoundError:
            return False
        self._decode(_decode_page, response, "read group", name)  # a login page is no proof
        return True

    def snapshot(self, groups: Iterable[str] | None = None) -> TargetSnapshot:
        """Users, groups and the memberships of ``groups`` (None: all) as Confluence has them now.

        Groups asked for that Confluence does not have yet have no members to
        read (the planner creates them); members are read ``max_in_flight``
        groups at a time, alongside the user list.
        """
        group_frame = self.groups()
        existing = dict(zip(group_frame["id"], group_frame["name"], strict=True))
        wanted = (
            existing.values()
            if groups is None
            else {existing[name.lower()] for name in groups if name.lower() in existing}
        )
        wanted = sorted(wanted)
        with ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="confluence-read") as pool:
            users = pool.submit(self.users)
            member_lists = _all_or_nothing(pool, [pool.submit(self.members, name) for name in wanted])
            user_frame = users.result()
        group_ids: list[str] = []
        user_ids: list[str] = []
        for name, members in zip(wanted, member_lists, strict=True):
            group_ids.extend([name.lower()] * len(members))
            user_ids.extend(member.lower() for member in members)
        memberships = frames.conform(
            pd.DataFrame({"group_id": group_ids, "user_id": user_ids, "direct": [True] * len(group_ids)}),
            frames.MEMBERSHIPS,
        )
        return TargetSnapshot(users=user_frame, groups=group_frame, memberships=memberships)

    def _group_names(self) -> list[str]:
        names = []
        for page in self._pages("/rest/api/group", {}, "list groups", ""):
            for group in page:
                if not group.name:
                    raise self._bad_answer("list groups", "", f"a group without a name: {group!r}")
                names.append(group.name)
        return names

    def _pages(
        self, path: str, params: dict[str, str], operation: str, target: str
    ) -> Iterator[list[_Entry]]:
        """The ``results`` of each page, following ``_links.next`` as the server gives it.

        The server may cap ``limit``: the next link carries what it chose. An
        empty ``results`` ends the walk even when ``next`` says otherwise
        (CONFSERVER-95396); ``size`` is never used. A link seen twice is a
        loop, and a link off this site would carry our credentials elsewhere:
        both fail the read.
        """
        url: str | None = self.base_url + path
        query: dict[str, str] | None = {**params, "start": "0", "limit": str(self.page_size)}
        seen: set[str] = set()
        while url is not None:
            response = self._get(url, operation=operation, target=target, params=query)
            page = self._decode(_decode_page, response, operation, target)
            if not page.results:
                return
            yield page.results
            url, query = self._next_url(page.links, operation, target), None
            if url in seen:
                raise self._bad_answer(operation, target, f"the server's next page link repeats: {url}")
            seen.add(url)

    def _next_url(self, links: _Links, operation: str, target: str) -> str | None:
        if not links.next:
            return None
        if "://" in links.next:
            url = links.next
        else:
            url = (links.base or self.base_url).rstrip("/") + "/" + links.next.lstrip("/")
        if _origin(url) != self._origin:
            raise self._bad_answer(
                operation,
                target,
                f"the next page link {url} leaves {self._origin}: set the connection's host to "
                "Confluence's base URL",
            )
        return url

    def _get(
        self, path_or_url: str, *, operation: str, target: str, params: dict[str, str] | None = None
    ) -> Response:
        """A GET, retried with the policy; raises the last error when it gives up."""

        def attempt() -> Response:
            response = self._request("GET", path_or_url, operation=operation, target=target, params=params)
            assert response is not None  # GET is never refused by dry run
            return response

        response, _ = call_with_retry(attempt, self.retry, sleep=self._sleep, on_retry=_log_retry)
        return response

    @staticmethod
    def _decode(decode: Callable[[bytes], T], response: Response, operation: str, target: str) -> T:
        try:
            return decode(response.body)
        except msgspec.DecodeError as error:
            raise ConfluenceError(
                operation, target, response.status, f"unexpected answer, not a Confluence page: {error}"
            ) from None

    @staticmethod
    def _bad_answer(operation: str, target: str, message: str) -> ConfluenceError:
        return ConfluenceError(operation, target, None, message)

    # -- writes ----------------------------------------------------------------------------------

    def create_user(
        self, username: str, full_name: str, email: str, *, password: str | None, notify_via_email: bool
    ) -> int | None:
        """POST /rest/api/admin/user: notify_via_email has Confluence mail the user, else a password."""
        if notify_via_email == (password is not None):
            raise ValueError("create_user needs a password exactly when notify_via_email is false")
        body: dict[str, Any] = {
            "userName": username,
            "fullName": full_name,
            "email": email,
            "notifyViaEmail": notify_via_email,
        }
        if password is not None:
            body["password"] = password
        return self._write("POST", "/rest/api/admin/user", "create user", username, body)

    def update_user(self, username: str, *, full_name: str | None, email: str | None) -> int | None:
        """PUT /rest/api/admin/user/{username} with the fields that change (None: left as is)."""
        body = {key: value for key, value in (("fullName", full_name), ("email", email)) if value is not None}
        if not body:
            raise ValueError(f"update_user {username!r}: nothing to change")
        return self._write("PUT", f"/rest/api/admin/user/{_segment(username)}", "update user", username, body)

    def enable_user(self, username: str) -> int | None:
        path = f"/rest/api/admin/user/{_segment(username)}/enable"
        return self._write("PUT", path, "enable user", username)

    def disable_user(self, username: str) -> int | None:
        path = f"/rest/api/admin/user/{_segment(username)}/disable"
        return self._write("PUT", path, "disable user", username)

    def delete_user(self, username: str, *, wait: bool = True) -> int | None:
        """DELETE the user; Confluence answers 202 with a long task, polled until done when ``wait``."""
        path = f"/rest/api/admin/user/{_segment(username)}"
        response = self._request("DELETE", path, operation="delete user", target=username)
        if response is None:
            return None
        if wait and response.status == 202:
            task = self._decode(_decode_task_submission, response, "delete user", username)
            self._wait_for_task(task.id, "delete user", username)
        return response.status

    def create_group(self, name: str) -> int | None:
        return self._write("POST", "/rest/api/admin/group", "create group", name, {"name": name})

    def delete_group(self, name: str) -> int | None:
        return self._write("DELETE", f"/rest/api/admin/group/{_segment(name)}", "delete group", name)

    def add_member(self, username: str, group: str) -> int | None:
        path = f"/rest/api/user/{_segment(username)}/group/{_segment(group)}"
        return self._write("PUT", path, "add member", _membership(username, group))

    def remove_member(self, username: str, group: str) -> int | None:
        path = f"/rest/api/user/{_segment(username)}/group/{_segment(group)}"
        return self._write("DELETE", path, "remove member", _membership(username, group))

    def _write(
        self, method: str, path: str, operation: str, target: str, body: dict[str, Any] | None = None
    ) -> int | None:
        response = self._request(method, path, operation=operation, target=target, json=body)
        return None if response is None else response.status

    def _wait_for_task(self, task_id: str, operation: str, target: str) -> None:
        """Poll the long task until it finishes; ConfluenceError when it fails or outlives the timeout."""
        deadline = time.monotonic() + self.long_task_timeout
        pause = 0.05
        while True:
            path = f"/rest/api/longtask/{_segment(task_id)}"
            response = self._get(path, operation=operation, target=target)
            status = self._decode(_decode_task_status, response, operation, target)
            if status.percentage_complete >= 100:
                if not status.successful:
                    raise ConfluenceError(
                        operation, target, None, f"long task {task_id} failed: {_task_messages(status)}"
                    )
                return
            if time.monotonic() + pause > deadline:
                raise ConfluenceError(
                    operation,
                    target,
                    None,
                    f"long task {task_id} did not finish within {self.long_task_timeout:g} s "
                    f"({status.percentage_complete}% done); it may still complete",
                )
            self._sleep(pause)
            pause = min(pause * 2, 2.0)

    # -- the one place a request is sent -----------------------------------------------------------

    def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        operation: str,
        target: str,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Response | None:
        """Send one request; a typed ConfluenceError for an error answer or a failed connection.

        In dry run every non-GET request is recorded instead of sent, and None is returned.
        """
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        if self.dry_run and method != "GET":
            path = url[len(self.base_url) :]
            recorded = None if json is None else {k: v for k, v in json.items() if k != "password"}
            with self._recorded_lock:
                self.recorded_requests.append(RecordedRequest(method, path, recorded))
            log.info("dry run: not sending %s %s", method, path)
            return None
        try:
            response = self._transport.request(method, self._resource(path_or_url, params), json)
        except TimedOut as error:
            raise TransientError(operation, target, None, f"timed out: {_short(error)}") from None
        except ConnectionFailed as error:
            raise TransientError(operation, target, None, f"connection failed: {_short(error)}") from None
        if response.status >= 400:
            raise error_from_response(operation, target, response.status, response.body, response.headers)
        if response.status >= 300:  # not followed: credentials stay on this site, a write stays a write
            where = response.headers.get("Location", "elsewhere")
            raise ConfluenceError(
                operation,
                target,
                response.status,
                f"redirected to {where}: set the connection's host to Confluence's base URL",
            )
        return response

    def _resource(self, path_or_url: str, params: dict[str, str] | None) -> str:
        """The request target: path and query on this site (a next link is checked to be on it)."""
        if "://" in path_or_url:
            parts = urlsplit(path_or_url)
            # a server's link may hold characters a request line must not: escape them, keep escapes
            resource = quote(urlunsplit(("", "", parts.path, parts.query, "")), safe=_URI_SAFE)
        else:
            resource = self._context_path + path_or_url
        if params:
            resource += ("&" if "?" in resource else "?") + urlencode(params)
        return resource


class _TaskSubmission(msgspec.Struct):
    id: str


class _TaskMessage(msgspec.Struct):
    translation: str | None = None


class _TaskStatus(msgspec.Struct, rename="camel"):
    percentage_complete: int = 0
    successful: bool = False
    messages: list[_TaskMessage | str] = msgspec.field(default_factory=list)


_decode_task_submission = msgspec.json.Decoder(_TaskSubmission).decode
_decode_task_status = msgspec.json.Decoder(_TaskStatus).decode


def _task_messages(status: _TaskStatus) -> str:
    texts = [m if isinstance(m, str) else m.translation or "" for m in status.messages]
    return "; ".join(text for text in texts if text) or "no message"


def _headers(username: str | None, password: str | None, token: str | None) -> dict[str, str]:
    """What every request carries: credentials, and the JSON and XSRF headers Confluence wants."""
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip",
        # Confluence refuses some admin writes without it (XSRF check); harmless elsewhere
        "X-Atlassian-Token": "no-check",
        "User-Agent": "confluence-provisioning",
    }
    if token:
        # not echoed: a stray line break would otherwise end up in an error message with the token
        if not (token.isascii() and token.isprintable()) or len(token.split()) != 1:
            raise ValueError("the personal access token must be one word of printable ASCII characters")
        headers["Authorization"] = f"Bearer {token}"
    elif username:
        pair = f"{username}:{password or ''}".encode("latin-1")  # as HTTP Basic clients (requests) do
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def _is_active(user: _Entry, operation: str) -> bool:
    status = user.status.get("value") if isinstance(user.status, dict) else user.status
    word = status.lower() if isinstance(status, str) else None
    if word in ACTIVE_STATUSES:
        return True
    if word in INACTIVE_STATUSES:
        return False
    raise ConfluenceError(
        operation,
        user.username or "",
        None,
        f"unknown user status {user.status!r} (expected Active or Deactivated with expand=status)",
    )


def _all_or_nothing(pool: ThreadPoolExecutor, futures: list[Future[T]]) -> list[T]:
    """Every future's result in order; on the first failure the rest are cancelled and it is raised."""
    try:
        return [future.result() for future in futures]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def _log_retry(error: TransientError, attempt: int, delay: float) -> None:
    log.warning("%s; retrying in %.1f s (attempt %d failed)", error, delay, attempt)


# What a request target may hold unescaped; "%" too, so the server's own escapes are kept.
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"


def _segment(value: str) -> str:
    """A path segment: everything escaped, "/" included (group names may hold it)."""
    return quote(value, safe="")


def _membership(username: str, group: str) -> str:
    return f"user {username} in group {group}"


def _origin(url: str) -> str:
    """scheme://host:port, the port spelled out, so equal origins compare equal."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or default_port}"


def _short(error: Exception) -> str:
    """An exception's text, cut to what a log line can hold (TLS errors can run long)."""
    text = str(error)
    return text if len(text) <= 300 else text[:299] + "…"
