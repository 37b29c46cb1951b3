"""Reading single values out of raw ldap3 entries: ids, names, flags. Pure functions.

A value that cannot be used raises `Unusable` with the reason; the caller turns
it into a reject row for the entry.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from confluence_provisioning.settings import DisabledRule
from confluence_provisioning.sources.ldap.dn import is_rdn_value

# Ids stored as 16 bytes (Active Directory's GUID byte order) and ids stored as UUID text.
_BINARY_GUIDS = {"objectguid"}
_TEXT_UUIDS = {"entryuuid", "ipauniqueid"}
# The form str(uuid.UUID(...)) gives, which directories mostly store already.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Unusable(Exception):
    """The entry cannot be used; the message says why and what to check."""


def entry_id(attribute: str, raw_attributes: Mapping[str, Any]) -> str:
    """The entry's immutable id as text: a lower-case UUID for GUID/UUID attributes."""
    values = raw_attributes.get(attribute)
    if not values:
        raise Unusable(f"it has no {attribute} (the id attribute, directory.id_attribute)")
    if len(values) > 1:
        raise Unusable(f"its id attribute {attribute} has {len(values)} values, not one")
    raw: bytes = values[0]
    kind = attribute.lower()
    try:
        if kind in _BINARY_GUIDS:
            return str(uuid.UUID(bytes_le=raw))
        text = raw.decode("utf-8").strip()
        return _uuid_text(text) if kind in _TEXT_UUIDS else _non_empty(text)
    except ValueError as error:  # UnicodeDecodeError is one too
        raise Unusable(f"its id attribute {attribute} has an unreadable value {raw!r}") from error


def _uuid_text(text: str) -> str:
    """``str(uuid.UUID(text))``, without parsing a text that is already in that form."""
    return text if _CANONICAL_UUID.fullmatch(text) else str(uuid.UUID(text))


def _non_empty(text: str) -> str:
    if not text:
        raise ValueError("empty")
    return text


def naming_value(dn: str, attribute: str, values: Sequence[Any] | None, setting: str) -> str:
    """The one value of a naming attribute (login, group name).

    Several values are allowed when exactly one of them is the entry's RDN value:
    that one is the entry's own name (``uid=jdoe`` with ``uid: jdoe`` and ``uid: john.doe``).
    """
    texts = [value.strip() for value in values or () if isinstance(value, str) and value.strip()]
    if not texts:
        raise Unusable(f"it has no {attribute} ({setting})")
    if len(texts) == 1:
        return texts[0]
    named = [text for text in texts if is_rdn_value(dn, attribute, text)]
    if len(named) == 1:
        return named[0]
    raise Unusable(
        f"it has {len(texts)} values of {attribute} ({', '.join(map(repr, texts))}) and none is its RDN; "
        f"keep one value in the directory, or choose another {setting}"
    )


def first_text(values: Sequence[Any] | None) -> str | None:
    """The first non-blank text value, or None."""
    for value in values or ():
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def is_disabled(rule: DisabledRule, values: Sequence[Any] | None) -> bool:
    """Whether the account is disabled by ``rule``, given the values of ``rule.attribute``."""
    if not values:
        return False
    if rule.mask is not None:
        return any(_integer(value) & rule.mask for value in values)
    if rule.equals is not None:
        return any(str(value).strip().lower() == rule.equals.lower() for value in values)
    return True


def _integer(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise Unusable(f"its account-state value {value!r} is not a number (directory.disabled)") from error
