"""Confluence floors: a bare paged GET walk of the lists the pipeline reads, and a bare write loop.

Both run ``max_in_flight`` threads, the client's concurrency, and do nothing per
request beyond sending it and (for reads) finding out whether the page was the
last. Each runs over two transports: ``http.client`` with one keep-alive
connection per thread, the least Python can pay for a request, which is the
floor; and a pooled ``requests`` session, the HTTP stack the client is built
on, which tells the library's share of a phase apart from our own code's.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

import msgspec
import requests
from requests.adapters import HTTPAdapter

from confluence_provisioning.plan import planner

# The applier's stage names, in the order it runs them.
STAGES = tuple(name for name, _ in planner.STAGES)


@dataclass(frozen=True)
class Site:
    base_url: str
    username: str
    password: str


@dataclass(frozen=True)
class WriteRequest:
    method: str
    path: str  # below the base URL
    json: dict[str, object] | None = None


@dataclass(frozen=True)
class HttpFloor:
    seconds: float
    requests: int
    items: int  # users, groups and members read, or writes that succeeded


class _Names(msgspec.Struct):
    name: str | None = None


class _Links(msgspec.Struct):
    next: str | None = None


class _Page(msgspec.Struct):
    results: list[msgspec.Raw]
    links: _Links = msgspec.field(name="_links", default_factory=_Links)


class _GroupPage(msgspec.Struct):
    results: list[_Names]
    links: _Links = msgspec.field(name="_links", default_factory=_Links)


_decode_page = msgspec.json.Decoder(_Page).decode
# Confluence refuses some admin writes without it (XSRF check), as the client knows
_XSRF = {"X-Atlassian-Token": "no-check"}
_decode_group_page = msgspec.json.Decoder(_GroupPage).decode


class Transport(Protocol):
    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """Send one request (``path`` below the base URL, query included); the status and body."""
        ...

    def close(self) -> None: ...


class HttpClientTransport:
    """One ``http.client`` keep-alive connection per thread, Basic auth, nothing else."""

    def __init__(self, site: Site) -> None:
        parts = urlsplit(site.base_url)
        self._host, self._port, self._prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        token = base64.b64encode(f"{site.username}:{site.password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json", **_XSRF}
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection(
                self._host, self._port, timeout=60
            )
            with self._lock:
                self._opened.append(connection)
        headers = self._headers
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        connection.request(method, self._prefix + path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        for connection in self._opened:
            connection.close()


class RequestsTransport:
    """A pooled ``requests`` session, set up as the client sets up its own."""

    def __init__(self, site: Site, max_in_flight: int) -> None:
        self._base = site.base_url
        self._session = requests.Session()
        self._session.auth = (site.username, site.password)
        self._session.headers.update({"Accept": "application/json", **_XSRF})
        self._session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max_in_flight, pool_block=True, max_retries=0)
        self._session.mount("http://", adapter)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        response = self._session.request(method, self._base + path, json=body, timeout=60)
        return response.status_code, response.content

    def close(self) -> None:
        self._session.close()


TRANSPORTS = ("http.client", "requests")


def transport(name: str, site: Site, max_in_flight: int) -> Transport:
    if name == "http.client":
        return HttpClientTransport(site)
    if name == "requests":
        return RequestsTransport(site, max_in_flight)
    raise ValueError(f"unknown transport {name!r}; choose one of {TRANSPORTS}")


def read_floor(
    site: Site, max_in_flight: int, page_size: int, via: str, groups: Iterable[str] | None = None
) -> HttpFloor:
    """Every page of the user list, the group list and the members of ``groups`` (None: all)."""
    start = time.perf_counter()
    sender = transport(via, site, max_in_flight)
    try:
        walker = _Walker(sender, page_size)
        names = walker.group_names()
        wanted = names if groups is None else sorted({g.lower() for g in groups} & {n.lower() for n in names})
        with ThreadPoolExecutor(max_in_flight) as pool:
            users = pool.submit(walker.walk, "/rest/api/user/list", {"expand": "status"})
            paths = [f"/rest/api/group/{quote(group, safe='')}/member" for group in wanted]
            members = sum(pool.map(walker.walk, paths))
            items = users.result() + members + len(names)
    finally:
        sender.close()
    return HttpFloor(time.perf_counter() - start, walker.requests, items)


def write_floor(site: Site, max_in_flight: int, writes: Sequence[WriteRequest], via: str) -> HttpFloor:
    """The writes stage by stage, each stage ``max_in_flight`` at a time; a failed write raises."""
    start = time.perf_counter()
    sender = transport(via, site, max_in_flight)

    def send(write: WriteRequest) -> None:
        status, body = sender.request(write.method, write.path, write.json)
        if status >= 400:
            raise RuntimeError(f"{write.method} {write.path}: {status} {body[:200]!r}")

    try:
        with ThreadPoolExecutor(max_in_flight) as pool:
            for stage in stages(writes):
                for _ in pool.map(send, stage):
                    pass
    finally:
        sender.close()
    return HttpFloor(time.perf_counter() - start, len(writes), len(writes))


def stages(writes: Sequence[WriteRequest]) -> list[list[WriteRequest]]:
    """The writes in stage order, each stage in the order given; empty stages left out."""
    grouped: list[list[WriteRequest]] = [[] for _ in STAGES]
    for write in writes:
        grouped[STAGES.index(stage_of(write))].append(write)
    return [stage for stage in grouped if stage]


def stage_of(write: WriteRequest) -> str:
    """The stage a write belongs to, from its method and route (names are %-escaped: no "/")."""
    method, path = write.method, write.path
    if path.startswith("/rest/api/user/") and "/group/" in path:
        return "add memberships" if method == "PUT" else "remove memberships"
    if path.startswith("/rest/api/admin/group"):
        return "create groups" if method == "POST" else "delete groups"
    if path.startswith("/rest/api/admin/user"):
        if method == "DELETE":
            return "delete users"
        return "disable users" if path.endswith("/disable") else "create and update users"
    raise ValueError(f"not a write the applier sends: {method} {path}")


class _Walker:
    """Pages through one list by ``start`` while the server says there is a next page.

    It stops where the client does (no ``next``, or an empty page) so both send
    the same requests.
    """

    def __init__(self, sender: Transport, page_size: int) -> None:
        self.sender, self.page_size = sender, page_size
        self.requests = 0
        self._lock = threading.Lock()

    def _get(self, path: str, params: dict[str, str], start: int) -> bytes:
        query = urlencode({**params, "start": str(start), "limit": str(self.page_size)})
        status, body = self.sender.request("GET", f"{path}?{query}")
        with self._lock:
            self.requests += 1
        if status != 200:
            raise RuntimeError(f"GET {path}?{query}: {status} {body[:200]!r}")
        return body

    def walk(self, path: str, params: dict[str, str] | None = None) -> int:
        seen = 0
        while True:
            page = _decode_page(self._get(path, params or {}, seen))
            seen += len(page.results)
            if not page.results or not page.links.next:
                return seen

    def group_names(self) -> list[str]:
        names: list[str] = []
        while True:
            page = _decode_group_page(self._get("/rest/api/group", {}, len(names)))
            names += [group.name or "" for group in page.results]
            if not page.results or not page.links.next:
                return names
