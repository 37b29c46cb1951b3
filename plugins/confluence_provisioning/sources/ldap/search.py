"""LDAP searches that fail closed: every page's result is checked, or `IdpReadError` says why not.

Entries come back as ldap3's raw response dicts (``dn``, ``attributes``,
``raw_attributes``): building ldap3 ``Entry`` objects would cost more than the
search itself on a large directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException, LDAPResponseTimeoutError

from confluence_provisioning.sources.ldap.errors import IdpReadError

PAGED_RESULTS_CONTROL = "1.2.840.113556.1.4.319"

# What to check for the result codes that mean the read is incomplete (RFC 4511 appendix A).
_ADVICE = {
    3: "the server's time limit ended the search; raise the time limit for the bind DN on the "
    "server, or narrow {filter_setting}",
    4: "the server's size limit ended the search; raise the size limit for the bind DN on the "
    "server (for paged searches the limit on the total), or narrow {base_setting} / {filter_setting}",
    10: "the server referred the search elsewhere ({referrals}) and referrals are not followed; "
    "set {base_setting} to a naming context this server holds, or point the connection at that server",
    11: "the server's administrative limit ended the search; raise it for the bind DN, or narrow "
    "{filter_setting}",
    32: "the base DN {base!r} does not exist on the server; check {base_setting}",
    34: "the base DN {base!r} is not a valid DN; check {base_setting}",
    50: "the bind DN may not read {base!r}; check the login of the Airflow connection and the "
    "server's access rules",
    2: "the server refused the filter {filter!r}; check {filter_setting}",
    87: "the server refused the filter {filter!r}; check {filter_setting}",
}


@dataclass(frozen=True)
class Search:
    """One search, and the settings an admin should check when it fails."""

    what: str  # "user search", "group search"
    base: str
    filter: str
    attributes: tuple[str, ...]
    base_setting: str = "directory.user_base_dn"
    filter_setting: str = "directory.user_filter"


def entries(conn: ldap3.Connection, searches: list[Search], page_size: int) -> Iterator[dict[str, Any]]:
    """Every entry of every search, in order; raises as soon as any page is incomplete."""
    for search in searches:
        for page in paged_entries(conn, search, page_size):
            yield from page


def paged_entries(conn: ldap3.Connection, search: Search, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """The entries of a subtree search, one page at a time; raises on any incomplete page."""
    cookie: bytes | None = None
    while True:
        entries = _run(
            conn,
            search,
            search_scope=ldap3.SUBTREE,
            paged_size=page_size,
            paged_cookie=cookie,
            paged_criticality=True,  # a server that cannot page must say so, not truncate
        )
        # Read the cookie before handing the page on: the caller may search in between
        # (ranged values), and conn.result is then that search's result.
        control = (conn.result.get("controls") or {}).get(PAGED_RESULTS_CONTROL)
        cookie = control["value"]["cookie"] if control else None
        yield entries
        if not cookie:
            return


def base_entry(conn: ldap3.Connection, search: Search) -> dict[str, Any]:
    """The one entry at ``search.base``; raises when it cannot be read."""
    entries = _run(conn, search, search_scope=ldap3.BASE)
    if len(entries) != 1:
        raise IdpReadError(f"LDAP {search.what} of {search.base!r} returned {len(entries)} entries, not 1")
    return entries[0]


def _run(conn: ldap3.Connection, search: Search, **options: Any) -> list[dict[str, Any]]:
    try:
        conn.search(search.base, search.filter, attributes=list(search.attributes), **options)
    except LDAPException as error:
        raise IdpReadError(_broken(conn, search, error)) from error
    result = conn.result
    response = conn.response or []
    referrals = [uri for item in response if item["type"] == "searchResRef" for uri in item.get("uri") or ()]
    if result["result"] != 0:
        said = f": {result['message']}" if result.get("message") else ""
        cause = f"{result['description']} ({result['result']}){said}"
        raise IdpReadError(_failure(search, cause, result["result"], result.get("referrals") or []))
    if referrals:
        raise IdpReadError(_failure(search, "continuation references (searchResRef)", 10, referrals))
    return [item for item in response if item["type"] == "searchResEntry"]


def _broken(conn: ldap3.Connection, search: Search, error: LDAPException) -> str:
    """Why a search raised instead of answering: silence, or a lost connection.

    (A filter ldap3 would refuse never gets here: ``validate`` checks the filters' syntax.)
    """
    server = f"{conn.server.host}:{conn.server.port}"
    failed = f"LDAP {search.what} under {search.base!r} failed"
    if isinstance(error, TimeoutError | LDAPResponseTimeoutError):
        return (
            f"{failed}: no answer from the LDAP server within {conn.receive_timeout} s ({server}); "
            "check that the server is healthy, or raise the receive_timeout extra of the Airflow connection"
        )
    return (
        f"{failed}: lost the connection to {server} ({error}); "
        "check that the server is up, and the receive_timeout extra of the Airflow connection"
    )


def _failure(search: Search, cause: str, code: int, referrals: list[str]) -> str:
    advice = _ADVICE.get(code, "check the server's log")
    advice = advice.format(
        base=search.base,
        base_setting=search.base_setting,
        filter_setting=search.filter_setting,
        filter=search.filter,
        referrals=", ".join(referrals) or "no address given",
    )
    return f"LDAP {search.what} under {search.base!r} failed: {cause}; {advice}. Nothing was read."
