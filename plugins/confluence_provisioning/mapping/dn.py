"""Distinguished names compared the way LDAP compares them: RDN by RDN, ignoring case and spacing.

``uid=a,OU=People, dc=example,dc=com`` is in the subtree ``ou=people,dc=example,dc=com``;
``uid=a,ou=otherpeople,dc=example,dc=com`` is not, although its text ends the
same way. A DN becomes a *key*: its RDNs from leaf to root, each with its
attribute-value pairs sorted, values unescaped (RFC 4514), lower-cased and
with runs of spaces collapsed (caseIgnoreMatch), joined by separators that
cannot occur in the text. Subtree membership is then a suffix test on keys.
Attribute types are compared by name only (``cn`` and ``2.5.4.3`` differ).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the column functions take pandas Series; parsing one DN needs no pandas
    import pandas as pd

_RDN_SEPARATOR = "\x00"
_AVA_SEPARATOR = "\x01"
_SPECIAL = frozenset('\\+,;"#<>= ')  # the characters a value may escape with a backslash


class DnError(ValueError):
    """Text that is not a distinguished name; the message says where it breaks."""


def dn_key(dn: str) -> str:
    """The comparison key of a DN; DnError when it does not parse."""
    rdns = _fast_split(dn) if not any(char in dn for char in '\\+"#') else _parse(dn)
    return _RDN_SEPARATOR.join(
        _AVA_SEPARATOR.join(sorted(f"{kind}={value}" for kind, value in rdn)) for rdn in rdns
    )


def dn_keys(dns: pd.Series) -> pd.Series:
    """``dn_key`` of every DN in a column (``<NA>`` for one that does not parse).

    Plain DNs (no escapes, no multi-valued RDN, one '=' per RDN: nearly all)
    are keyed in one vectorised pass; the others one by one.
    """
    dns = dns.astype("string")
    plain = (~dns.str.contains(r'[\\+"#]') & dns.str.count("=").eq(dns.str.count("[,;]") + 1)).fillna(False)
    keys = (
        dns[plain]
        .str.lower()
        .str.replace(r"\s+", " ", regex=True)
        .str.replace(r" ?([,;=]) ?", r"\1", regex=True)
        .str.strip()
        .str.replace("[,;]", _RDN_SEPARATOR, regex=True)
    )
    others = {dn: _key_or_none(dn) for dn in dns[~plain].dropna().unique()}
    return keys.reindex(dns.index).fillna(dns[~plain].map(others)).astype("string")


def _key_or_none(dn: str) -> str | None:
    try:
        return dn_key(dn)
    except DnError:
        return None


def parent_key(key: str) -> str | None:
    """The key of the entry one level up (None for a top entry)."""
    _, separator, parent = key.partition(_RDN_SEPARATOR)
    return parent if separator else None


def in_subtree(keys: pd.Series, base_key: str) -> pd.Series:
    """Which DN keys lie in the subtree rooted at ``base_key`` (the base entry included)."""
    return keys.eq(base_key) | keys.str.endswith(_RDN_SEPARATOR + base_key)


def _normal_value(value: str) -> str:
    # the separators must never appear inside a key's values
    folded = " ".join(value.split()).lower()  # lower(), not casefold(): as the vectorised path
    return folded.replace(_RDN_SEPARATOR, "\\00").replace(_AVA_SEPARATOR, "\\01")


def _ava(text: str, dn: str) -> tuple[str, str]:
    kind, equals, value = text.partition("=")
    kind = kind.strip().lower()
    if not equals or not kind:
        raise DnError(f"{dn!r} is not a DN: {text.strip()!r} is not attribute=value")
    return kind, _normal_value(value)


def _fast_split(dn: str) -> list[list[tuple[str, str]]]:
    """DNs without escapes or multi-valued RDNs (nearly all of them)."""
    if not dn.strip():
        raise DnError("an empty DN names no subtree")
    return [[_ava(part, dn)] for part in dn.replace(";", ",").split(",")]


def _parse(dn: str) -> list[list[tuple[str, str]]]:
    """The RFC 4514 reading: escapes (\\, and \\2C), multi-valued RDNs (a+b), #hex values."""
    rdns: list[list[tuple[str, str]]] = [[]]
    current: list[str] = []
    pending: bytearray = bytearray()  # \xx escapes, decoded together as UTF-8

    def flush_bytes() -> None:
        if pending:
            try:
                current.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                raise DnError(f"{dn!r} is not a DN: its \\xx escapes are not UTF-8") from None
            pending.clear()

    def end_ava() -> None:
        flush_bytes()
        rdns[-1].append(_ava("".join(current), dn))
        current.clear()

    index = 0
    while index < len(dn):
        char = dn[index]
        if char == "\\":
            pair = dn[index + 1 : index + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                pending.append(int(pair, 16))
                index += 3
                continue
            if pair[:1] not in _SPECIAL:
                raise DnError(f"{dn!r} is not a DN: bad escape at position {index}")
            flush_bytes()
            current.append(pair[:1])
            index += 2
            continue
        flush_bytes()
        if char in ",;":
            end_ava()
            rdns.append([])
        elif char == "+":
            end_ava()
        else:
            current.append(char)
        index += 1
    end_ava()
    return rdns
