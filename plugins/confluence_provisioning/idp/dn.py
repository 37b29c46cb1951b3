"""Matching a member value to an entry DN when the two are spelled differently.

A group's ``member`` value and the member's own DN name the same entry but may
differ in letter case, spaces around separators and escaping style
(``\\,`` or ``\\2C``). `DnIndex` tries the cheap lower-case match first and
only canonicalises (RFC 4514: unescape, re-escape the one standard way) on a
miss, so a million member values cost a million dictionary look-ups.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

# One attribute=value pair and the separator after it. A value is a run of escapes
# (\\XX hex pairs or \\ and any character) and characters that are not \\ , or +.
_AVA = re.compile(r"\s*([^=,+\s]+)\s*=\s*((?:\\[0-9A-Fa-f]{2}|\\.|[^\\,+])*?)\s*([,+]|$)", re.DOTALL)
_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2}|.)", re.DOTALL)
_SPECIAL = re.compile(r'([\\,+"<>;=\x00])')


def canonical_dn(dn: str) -> str | None:
    """The RFC 4514 canonical, lower-case form of ``dn``; None when it is not a DN."""
    rdns: list[list[str]] = [[]]
    position = 0
    for match in _AVA.finditer(dn):
        if match.start() != position:
            return None
        attribute, value, separator = match.groups()
        rdns[-1].append(f"{attribute.lower()}={escape_value(_unescape(value)).lower()}")
        position = match.end()
        if separator == ",":
            rdns.append([])
        elif not separator:
            break
    if position != len(dn) or not rdns[0]:
        return None
    # The pairs of a multi-valued RDN (cn=a+uid=b) are a set: their order does not matter.
    return ",".join("+".join(sorted(rdn)) for rdn in rdns)


def first_ava(dn: str) -> tuple[str, str] | None:
    """The first attribute and its unescaped value of the DN's RDN (``uid=j\\2Cdoe,...`` -> uid, j,doe)."""
    match = _AVA.match(dn)
    return (match.group(1), _unescape(match.group(2))) if match else None


def escape_value(value: str) -> str:
    """An attribute value escaped for a DN (RFC 4514 section 2.4)."""
    escaped = _SPECIAL.sub(r"\\\1", value)
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    if escaped.endswith(" ") and not escaped.endswith("\\ "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def _unescape(value: str) -> str:
    return b"".join(_unescaped_bytes(value)).decode("utf-8", errors="replace")


def _unescaped_bytes(value: str) -> Iterator[bytes]:
    # Hex pairs are UTF-8 bytes, which may spell one character together (\\C3\\A9 is é).
    position = 0
    for match in _ESCAPE.finditer(value):
        yield value[position : match.start()].encode("utf-8")
        escaped = match.group(1)
        yield bytes.fromhex(escaped) if len(escaped) == 2 else escaped.encode("utf-8")
        position = match.end()
    yield value[position:].encode("utf-8")


T = TypeVar("T")


class DnIndex(Generic[T]):
    """DN -> value, looked up the way LDAP compares DNs."""

    def __init__(self) -> None:
        self._by_lower: dict[str, T] = {}
        self._by_canonical: dict[str, T] | None = None  # built on the first miss

    def __setitem__(self, dn: str, value: T) -> None:
        self._by_lower[dn.lower()] = value
        if self._by_canonical is not None:
            self._by_canonical[canonical_dn(dn) or dn.lower()] = value

    def __contains__(self, dn: str) -> bool:
        return self.get(dn) is not None

    def get(self, dn: str) -> T | None:
        found = self._by_lower.get(dn.lower())
        if found is not None:
            return found
        if self._by_canonical is None:
            self._by_canonical = {canonical_dn(key) or key: value for key, value in self._by_lower.items()}
        key = canonical_dn(dn)
        return None if key is None else self._by_canonical.get(key)
