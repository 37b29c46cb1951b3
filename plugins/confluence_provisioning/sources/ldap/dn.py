"""Matching member values to entry DNs when the two are spelled differently.

A group's ``member`` value and the member's own DN name the same entry but may
differ in letter case, spaces around separators and escaping style (``\\,`` or
``\\2C``). `DnIndex` tries the cheap lower-case match first and compares
canonical keys (`confluence_provisioning.mapping.dn.dn_key`) only on a miss, so
a million member values cost a million dictionary look-ups.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import escape_rdn, parse_dn

from confluence_provisioning.mapping.dn import DnError, dn_key

T = TypeVar("T")
D = TypeVar("D")


def key_or_none(dn: str) -> str | None:
    try:
        return dn_key(dn)
    except DnError:
        return None


def is_rdn_value(dn: str, attribute: str, value: str) -> bool:
    """Whether ``attribute=value`` is the (single-valued) RDN of ``dn``."""
    try:
        rdn_attribute, rdn_value, separator = parse_dn(dn, escape=False, strip=True)[0]
    except (LDAPInvalidDnError, IndexError):
        return False
    if separator == "+":
        return False
    return key_or_none(f"{rdn_attribute}={rdn_value}") == key_or_none(f"{attribute}={escape_rdn(value)}")


class DnIndex(Generic[T]):
    """DN -> value, looked up the way LDAP compares DNs."""

    def __init__(self) -> None:
        self._by_lower: dict[str, T] = {}
        self._by_key: dict[str, T] | None = None  # built on the first miss

    def __setitem__(self, dn: str, value: T) -> None:
        self._by_lower[dn.lower()] = value
        if self._by_key is not None:
            self._by_key[key_or_none(dn) or dn.lower()] = value

    def get(self, dn: str, default: D) -> T | D:
        lower = dn.lower()
        if lower in self._by_lower:
            return self._by_lower[lower]
        if self._by_key is None:
            self._by_key = {key_or_none(lower) or lower: value for lower, value in self._by_lower.items()}
        key = key_or_none(dn)
        return self._by_key[key] if key is not None and key in self._by_key else default
