"""SCIM 2.0 client for Atlassian Cloud's user provisioning API (and any SCIM service provider).

Every request goes through ``_request``: the single place that sends, turns error answers into
the targets' typed errors (``errors.py``) and, in dry run, records anything but GET instead of
sending it. Reads are retried with the policy and fail closed: a listing walks ``startIndex``
pages (1-based) and stops on an empty or short page or once ``totalResults`` are seen, and
raises when it saw fewer resources than ``totalResults`` said. Writes send one request and
raise a typed error; the applier decides about retries and idempotency.

Memberships change only through ``PATCH /Groups/{id}`` with many members a request
(``member_batch``). Removal uses the form Atlassian's provisioning clients send,
``{"op": "remove", "path": "members", "value": [...]}``; ``remove_form="path_filter"`` sends the
RFC 7644 form ``members[value eq "id" or ...]`` that strict servers (scim2-server) require.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

import msgspec

from confluence_provisioning.printable import printable_logger
from confluence_provisioning.targets.atlassian_cloud.errors import scim_error_from_response
from confluence_provisioning.targets.errors import ConfluenceError, TransientError
from confluence_provisioning.targets.retry import RetryPolicy, call_with_retry
from confluence_provisioning.targets.transport import ConnectionFailed, Response, TimedOut, Transport

log = printable_logger(__name__)  # names from the directory are logged escaped

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
PAGE_CAP = 100  # Atlassian: at most 100 resources a page
MEMBER_BATCH = 100  # members per PATCH: the contract names no limit; 100 keeps a request small

RemoveForm = Literal["value_list", "path_filter"]


class Email(msgspec.Struct):
    value: str | None = None
    primary: bool | None = None


class Member(msgspec.Struct):
    value: str


class ScimUser(msgspec.Struct, rename="camel"):
    id: str
    user_name: str
    external_id: str | None = None
    display_name: str | None = None
    active: bool = True
    emails: list[Email] = msgspec.field(default_factory=list)

    @property
    def email(self) -> str | None:
        """The primary email, else the first."""
        chosen = next((e for e in self.emails if e.primary), self.emails[0] if self.emails else None)
        return chosen.value if chosen else None


class ScimGroup(msgspec.Struct, rename="camel"):
    id: str
    display_name: str
    members: list[Member] = msgspec.field(default_factory=list)


class _Page(msgspec.Struct, rename={"resources": "Resources", "total_results": "totalResults"}):
    total_results: int
    resources: list[msgspec.Raw] = msgspec.field(default_factory=list)


class _Created(msgspec.Struct):
    id: str


_decode_page = msgspec.json.Decoder(_Page).decode
_decode_user = msgspec.json.Decoder(ScimUser).decode
_decode_group = msgspec.json.Decoder(ScimGroup).decode
_decode_created = msgspec.json.Decoder(_Created).decode


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A write the client refused to send in dry run."""

    method: str
    path: str
    json: dict[str, Any] | None = None


class ScimClient:
    """Users, groups and memberships of one SCIM directory (for Atlassian: ``.../scim/directory/{id}``)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10, 60),
        max_in_flight: int = 4,
        page_size: int = PAGE_CAP,
        member_batch: int = MEMBER_BATCH,
        remove_form: RemoveForm = "value_list",
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if "@" in parts.netloc:
            raise ValueError("the SCIM base URL must not carry credentials: give the API key as the token")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the SCIM base URL must look like https://host/path, got {base_url!r}")
        if min(max_in_flight, page_size, member_batch) < 1:
            raise ValueError("max_in_flight, page_size and member_batch must be at least 1")
        if not token or not (token.isascii() and token.isprintable()) or len(token.split()) != 1:
            raise ValueError("the API key must be one word of printable ASCII characters")
        self.base_url = base_url.rstrip("/")
        self._path = urlsplit(self.base_url).path
        self.page_size = page_size
        self.member_batch = member_batch
        self.remove_form = remove_form
        self.dry_run = dry_run
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.recorded_requests: list[RecordedRequest] = []
        self._recorded_lock = threading.Lock()
        headers = {
            "Accept": "application/scim+json, application/json",
            "Authorization": f"Bearer {token}",
            "User-Agent": "confluence-provisioning",
        }
        self._transport = Transport(
            self.base_url, headers, verify=verify, timeout=timeout, max_in_flight=max_in_flight
        )

    def __repr__(self) -> str:
        return f"ScimClient({self.base_url!r}, dry_run={self.dry_run})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> ScimClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reads -----------------------------------------------------------------------------------

    def users(self) -> list[ScimUser]:
        return [_decode_user(raw) for raw in self._walk("/Users", "list users")]

    def groups(self) -> list[ScimGroup]:
        """Every group with its members."""
        return [_decode_group(raw) for raw in self._walk("/Groups", "list groups")]

    def user_count(self) -> int:
        """How many users the directory has, as its first page of one says (``GET /Users?count=1``)."""
        return self._page("/Users", {"startIndex": "1", "count": "1"}, "count users", "").total_results

    def find_user(self, *, user_name: str | None = None, external_id: str | None = None) -> ScimUser | None:
        attribute, value = ("userName", user_name) if user_name is not None else ("externalId", external_id)
        found = self._filtered("/Users", attribute, value or "", "find user")
        return _decode_user(found) if found is not None else None

    def find_group(self, name: str) -> ScimGroup | None:
        found = self._filtered("/Groups", "displayName", name, "find group")
        return _decode_group(found) if found is not None else None

    def _filtered(self, endpoint: str, attribute: str, value: str, operation: str) -> msgspec.Raw | None:
        params = {"filter": f"{attribute} eq {json.dumps(value)}", "startIndex": "1", "count": "2"}
        page = self._page(endpoint, params, operation, value)
        if len(page.resources) > 1:
            raise ConfluenceError(
                operation, value, None, f"{len(page.resources)} resources have {attribute} {value}"
            )
        return page.resources[0] if page.resources else None

    def _walk(self, endpoint: str, operation: str) -> Iterator[msgspec.Raw]:
        """Every resource of a listing, page by page; fails closed (see the module docstring)."""
        start, seen, page_length, total = 1, 0, 0, 0
        while True:
            params = {"startIndex": str(start), "count": str(self.page_size)}
            page = self._page(endpoint, params, operation, "")
            total = page.total_results
            count = len(page.resources)
            yield from page.resources
            seen += count
            page_length = max(page_length, count)
            if count == 0 or seen >= total or count < min(page_length, self.page_size):
                break
            start += count
        if seen < total:
            raise ConfluenceError(
                operation,
                "",
                None,
                f"the server said {total} resources but the pages held {seen}: refusing a partial read",
            )

    def _page(self, endpoint: str, params: dict[str, str], operation: str, target: str) -> _Page:
        def attempt() -> Response:
            response = self._request("GET", endpoint, operation=operation, target=target, params=params)
            assert response is not None  # GET is never recorded
            return response

        response, _ = call_with_retry(attempt, self.retry, sleep=self._sleep, on_retry=_log_retry)
        try:
            return _decode_page(response.body)
        except msgspec.DecodeError as error:
            raise ConfluenceError(operation, target, response.status, f"not a SCIM list: {error}") from None

    # -- writes ----------------------------------------------------------------------------------

    def create_user(
        self, user_name: str, email: str, display_name: str, *, external_id: str | None, active: bool = True
    ) -> tuple[int | None, str | None]:
        """POST /Users; (status, new id), (None, None) in dry run."""
        body: dict[str, Any] = {
            "schemas": [USER_SCHEMA],
            "userName": user_name,
            "emails": [{"value": email, "type": "work", "primary": True}],
            "displayName": display_name,
            "active": active,
        }
        if external_id:
            body["externalId"] = external_id
        return self._create("/Users", "create user", user_name, body)

    def create_group(self, name: str) -> tuple[int | None, str | None]:
        return self._create("/Groups", "create group", name, {"schemas": [GROUP_SCHEMA], "displayName": name})

    def patch_user(self, user_id: str, operations: list[dict[str, Any]], *, target: str) -> int | None:
        """PATCH /Users/{id} (never PUT, which clears what it does not name)."""
        body = {"schemas": [PATCH_SCHEMA], "Operations": operations}
        return self._write("PATCH", f"/Users/{_segment(user_id)}", "update user", target, body)

    def set_active(self, user_id: str, active: bool, *, target: str) -> int | None:
        operation = {"op": "replace", "path": "active", "value": active}
        body = {"schemas": [PATCH_SCHEMA], "Operations": [operation]}
        name = "enable user" if active else "disable user"
        return self._write("PATCH", f"/Users/{_segment(user_id)}", name, target, body)

    def change_members(
        self, group_id: str, member_ids: Sequence[str], *, add: bool, target: str
    ) -> list[int | None]:
        """Add or remove members, ``member_batch`` a PATCH; the status of each request sent."""
        statuses = []
        for start in range(0, len(member_ids), self.member_batch):
            batch = list(member_ids[start : start + self.member_batch])
            body = {"schemas": [PATCH_SCHEMA], "Operations": [self._member_operation(batch, add)]}
            name = "add members" if add else "remove members"
            statuses.append(self._write("PATCH", f"/Groups/{_segment(group_id)}", name, target, body))
        return statuses

    def _member_operation(self, member_ids: list[str], add: bool) -> dict[str, Any]:
        values = [{"value": member_id} for member_id in member_ids]
        if add:
            return {"op": "add", "path": "members", "value": values}
        if self.remove_form == "path_filter":
            selector = " or ".join(f"value eq {json.dumps(member_id)}" for member_id in member_ids)
            return {"op": "remove", "path": f"members[{selector}]"}
        return {"op": "remove", "path": "members", "value": values}

    def delete_group(self, group_id: str, *, target: str) -> int | None:
        return self._write("DELETE", f"/Groups/{_segment(group_id)}", "delete group", target)

    def _create(
        self, endpoint: str, operation: str, target: str, body: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        response = self._request("POST", endpoint, operation=operation, target=target, json=body)
        if response is None:
            return None, None
        try:
            return response.status, _decode_created(response.body).id
        except msgspec.DecodeError as error:
            raise ConfluenceError(
                operation, target, response.status, f"no id in the answer: {error}"
            ) from None

    def _write(
        self, method: str, path: str, operation: str, target: str, body: dict[str, Any] | None = None
    ) -> int | None:
        response = self._request(method, path, operation=operation, target=target, json=body)
        return None if response is None else response.status

    # -- the one place a request is sent -----------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        target: str,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Response | None:
        if self.dry_run and method != "GET":
            with self._recorded_lock:
                self.recorded_requests.append(RecordedRequest(method, path, json))
            log.info("dry run: not sending %s %s", method, path)
            return None
        resource = self._path + path + ("?" + urlencode(params) if params else "")
        try:
            response = self._transport.request(method, resource, json)
        except TimedOut as error:
            raise TransientError(operation, target, None, f"timed out: {error}") from None
        except ConnectionFailed as error:
            raise TransientError(operation, target, None, f"connection failed: {error}") from None
        if response.status >= 400:
            raise scim_error_from_response(
                operation, target, response.status, response.body, response.headers
            )
        if response.status >= 300:  # not followed: the key stays on this host, a write stays a write
            where = response.headers.get("Location", "elsewhere")
            raise ConfluenceError(operation, target, response.status, f"redirected to {where}")
        return response


def _segment(value: str) -> str:
    return quote(value, safe="")


def _log_retry(error: TransientError, attempt: int, delay: float) -> None:
    log.warning("%s; retrying in %.1f s (attempt %d failed)", error, delay, attempt)
