"""Confluence floors: a bare paged GET walk of the lists the pipeline reads, and a bare write loop.

Both use one pooled ``requests`` session with ``max_in_flight`` threads, the
client's concurrency, and do nothing per request beyond sending it and (for
reads) finding out whether the page was the last: what is left is the cost of
the emulator and of HTTP, the least a Confluence phase can pay.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import msgspec
import requests
from requests.adapters import HTTPAdapter

# The applier's stages, in the order it runs them: members are added only after users
# and groups exist, and access is taken away last.
STAGES = (
    "create groups",
    "create and update users",
    "add memberships",
    "remove memberships",
    "disable users",
    "delete users",
    "delete groups",
)


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
_decode_group_page = msgspec.json.Decoder(_GroupPage).decode


def session(site: Site, max_in_flight: int) -> requests.Session:
    http = requests.Session()
    http.auth = (site.username, site.password)
    http.headers["Accept"] = "application/json"
    http.headers["X-Atlassian-Token"] = "no-check"
    http.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max_in_flight, pool_block=True, max_retries=0)
    http.mount("http://", adapter)
    return http


def read_floor(
    site: Site, max_in_flight: int, page_size: int, groups: Iterable[str] | None = None
) -> HttpFloor:
    """Every page of the user list, the group list and the members of ``groups`` (None: all)."""
    start = time.perf_counter()
    with session(site, max_in_flight) as http:
        walker = _Walker(http, site.base_url, page_size)
        names = walker.group_names()
        wanted = names if groups is None else sorted({g.lower() for g in groups} & {n.lower() for n in names})
        with ThreadPoolExecutor(max_in_flight) as pool:
            users = pool.submit(walker.walk, "/rest/api/user/list", {"expand": "status"})
            members = list(
                pool.map(lambda g: walker.walk(f"/rest/api/group/{quote(g, safe='')}/member"), wanted)
            )
            items = users.result() + sum(members) + len(names)
    return HttpFloor(time.perf_counter() - start, walker.requests, items)


def write_floor(site: Site, max_in_flight: int, writes: Sequence[WriteRequest]) -> HttpFloor:
    """The writes stage by stage, each stage ``max_in_flight`` at a time; a failed write raises."""
    start = time.perf_counter()
    done = 0
    with session(site, max_in_flight) as http, ThreadPoolExecutor(max_in_flight) as pool:

        def send(write: WriteRequest) -> None:
            response = http.request(write.method, site.base_url + write.path, json=write.json, timeout=60)
            if response.status_code >= 400:
                raise RuntimeError(
                    f"{write.method} {write.path}: {response.status_code} {response.text[:200]}"
                )

        for stage in stages(writes):
            for _ in pool.map(send, stage):
                done += 1
    return HttpFloor(time.perf_counter() - start, len(writes), done)


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

    def __init__(self, http: requests.Session, base_url: str, page_size: int) -> None:
        self.http, self.base_url, self.page_size = http, base_url, page_size
        self.requests = 0
        self._lock = threading.Lock()

    def _get(self, path: str, params: dict[str, str], start: int) -> bytes:
        query = {**params, "start": str(start), "limit": str(self.page_size)}
        response = self.http.get(self.base_url + path, params=query, timeout=60)
        with self._lock:
            self.requests += 1
        response.raise_for_status()
        return response.content

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
