"""LDAP read floors: OpenLDAP's C ``ldapsearch`` and a bare ldap3 paged search, same searches.

The searches are the extraction's own (``pipeline_searches``: same bases,
filters, attributes and page size). Both floors read every page and throw the
entries away: what is left is the cost of the server and of the wire format in
that client, the least any extraction can pay.
"""

from __future__ import annotations

import gc
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

import ldap3

from confluence_provisioning.sources.ldap.bases import search_bases
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile
from confluence_provisioning.sources.ldap.groups import group_searches
from confluence_provisioning.sources.ldap.search import Search
from confluence_provisioning.sources.ldap.users import user_searches

PAGED_RESULTS = "1.2.840.113556.1.4.319"


@dataclass(frozen=True)
class Bind:
    uri: str
    dn: str
    password: str


@dataclass(frozen=True)
class ReadFloor:
    seconds: float
    entries: int


def pipeline_searches(connection: ldap3.Connection, profile: DirectoryProfile) -> list[Search]:
    """The user and group searches ``idp.snapshot.extract`` runs for ``profile``."""
    user_bases = search_bases(connection, profile.user_base_dn, profile.user_base_rdn, "user_base_dn")
    group_bases = search_bases(connection, profile.group_base_dn, profile.group_base_rdn, "group_base_dn")
    return [*user_searches(profile, user_bases), *group_searches(profile, group_bases)]


def ldapsearch_floor(bind: Bind, searches: Sequence[Search], page_size: int) -> ReadFloor:
    """``ldapsearch -E pr=<page_size>/noprompt`` for each search, output discarded."""
    entries = 0
    start = time.perf_counter()
    for search in searches:
        args = [
            "ldapsearch", "-x", "-LLL", "-H", bind.uri, "-D", bind.dn, "-w", bind.password,
            "-b", search.base, "-E", f"pr={page_size}/noprompt", search.filter, *search.attributes,
        ]  # fmt: skip
        tool = subprocess.run(args, capture_output=True, env={"LDAPNOINIT": "1"}, check=False)
        if tool.returncode != 0:
            raise RuntimeError(
                f"ldapsearch of {search.base} failed (exit {tool.returncode}): {tool.stderr.decode()}"
            )
        # An entry starts with a "dn:" line; a continued line starts with a space instead.
        entries += tool.stdout.startswith(b"dn:") + tool.stdout.count(b"\ndn:")
    return ReadFloor(time.perf_counter() - start, entries)


def ldap3_floor(bind: Bind, searches: Sequence[Search], page_size: int) -> ReadFloor:
    """A bare ldap3 paged search (synchronous strategy, no schema) for each search.

    The cyclic garbage collector is paused, as the extraction pauses it: ldap3
    makes no reference cycles, only work for the collector.
    """
    gc.disable()
    try:
        return _ldap3_searches(bind, searches, page_size)
    finally:
        gc.enable()


def _ldap3_searches(bind: Bind, searches: Sequence[Search], page_size: int) -> ReadFloor:
    start = time.perf_counter()
    server = ldap3.Server(bind.uri, get_info=ldap3.NONE)
    entries = 0
    with ldap3.Connection(server, bind.dn, bind.password, auto_bind=True, read_only=True) as connection:
        for search in searches:
            cookie: bytes | None = None
            while True:
                connection.search(
                    search.base,
                    search.filter,
                    attributes=list(search.attributes),
                    paged_size=page_size,
                    paged_cookie=cookie,
                )
                entries += sum(1 for item in connection.response if item["type"] == "searchResEntry")
                cookie = connection.result["controls"][PAGED_RESULTS]["value"]["cookie"]
                if not cookie:
                    break
    return ReadFloor(time.perf_counter() - start, entries)
