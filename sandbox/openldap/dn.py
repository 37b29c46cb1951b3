"""DN escaping and comparison (RFC 4514), enough to match member values with entry DNs.

slapd writes `uid=corp\\5Cbwilson` for the DN an LDIF spelt `uid=corp\\\\bwilson`, and
keeps member values as written: comparing DNs as strings is wrong.
"""

import re

_SPECIAL = re.compile(r'([\\,+"<>;])')
# A DN with none of these has one spelling apart from case and spaces.
_NEEDS_PARSING = re.compile(r'[\\+"<>;#]')
# Spaces around unescaped separators and letter case do not change a DN.
_SEPARATOR_SPACES = re.compile(r"\s*([,+=])\s*")
_TOKEN = re.compile(r"\\([0-9a-fA-F]{2})|\\(.)|([,+=])|([^\\,+=]+)", re.DOTALL)


def escape_rdn_value(value: str) -> str:
    """Escape an attribute value for a DN: the specials, a leading '#' or space, a trailing space."""
    escaped = _SPECIAL.sub(r"\\\1", value)
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    if value.endswith(" ") and len(value) > 1:
        escaped = escaped[:-1] + "\\ "
    return escaped


def canonical_dn(dn: str) -> str:
    """One spelling per DN: lower case, no optional spaces, one way of escaping, sorted RDN parts.

    Every attribute is compared case-insensitively, which holds for the naming attributes
    directories use (uid, cn, ou, dc, o).
    """
    if not _NEEDS_PARSING.search(dn):  # the common case, kept fast for 100,000-entry loads
        lowered = dn.strip().lower()
        return _SEPARATOR_SPACES.sub(r"\1", lowered) if " " in lowered else lowered
    rdns: list[list[str]] = [[]]
    attribute = ""
    pieces: list[tuple[str, bool]] = []  # (text, escaped) of the type or value being read
    pending = bytearray()  # \XX pairs form UTF-8 byte sequences

    def flush_bytes() -> None:
        if pending:
            pieces.append((pending.decode("utf-8", errors="replace"), True))
            pending.clear()

    for hex_pair, escaped, separator, text in _TOKEN.findall(dn):
        if hex_pair:
            pending.append(int(hex_pair, 16))
            continue
        flush_bytes()
        if escaped:
            pieces.append((escaped, True))
        elif text:
            pieces.append((text, False))
        elif separator == "=" and not attribute:
            attribute, pieces = _joined(pieces), []
        elif separator == "=":
            pieces.append(("=", False))
        else:
            rdns[-1].append(f"{attribute.lower()}={escape_rdn_value(_joined(pieces).lower())}")
            attribute, pieces = "", []
            if separator == ",":
                rdns.append([])
    flush_bytes()
    rdns[-1].append(f"{attribute.lower()}={escape_rdn_value(_joined(pieces).lower())}")
    return ",".join("+".join(sorted(parts)) for parts in rdns)


def _joined(pieces: list[tuple[str, bool]]) -> str:
    """Join the pieces, dropping unescaped spaces at either end."""
    if pieces and not pieces[0][1]:
        pieces[0] = (pieces[0][0].lstrip(" "), False)
    if pieces and not pieces[-1][1]:
        pieces[-1] = (pieces[-1][0].rstrip(" "), False)
    return "".join(text for text, _ in pieces)
