"""LDAP search filter syntax (RFC 4515), checked before any server sees a filter.

``filter_problem(text)`` says what is wrong with a filter, and at which character, or None.
It checks the syntax only: balanced parentheses, one filter (not two side by side), the
operators (``& | !``, ``= ~= >= <=``, presence ``=*``, substrings, extensible match
``attr:dn:rule:=``), attribute descriptions and ``\\XX`` escapes. Whether the server knows
an attribute or a matching rule is the server's to say (see ``search``). Pure: no I/O.
"""

from __future__ import annotations

import re

# attribute description: a name (letters, digits, hyphens) or a numeric OID, then ;options
_ATTRIBUTE = r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9-]+)*"
_RULE = r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)"
_ITEM = re.compile(
    rf"(?P<attribute>{_ATTRIBUTE})(?P<operator>~=|>=|<=|=)(?P<value>.*)"
    # extensible match: attr[:dn][:rule]:=value, or [:dn]:rule:=value (a rule is needed without attr)
    rf"|(?P<extensible>{_ATTRIBUTE}(?::[dD][nN])?(?::{_RULE})?|(?::[dD][nN])?:{_RULE}):=(?P<ext_value>.*)",
    re.DOTALL,
)
_BAD_ESCAPE = re.compile(r"\\(?![0-9A-Fa-f]{2})")
EXAMPLE = "(&(objectClass=person)(uid=*))"


class _Invalid(Exception):
    """What is wrong, naming the character it is at (counted from 1)."""


def filter_problem(text: str) -> str | None:
    """Why ``text`` is not an LDAP filter, or None when it is one."""
    if not text.strip():
        return f"the filter is empty; an LDAP filter looks like {EXAMPLE}"
    try:
        end = _filter(text, 0)
        if end != len(text):
            raise _Invalid(
                f"text after the end of the filter at character {end + 1} "
                "(to combine filters, wrap them in (&...) or (|...))"
            )
    except _Invalid as invalid:
        return f"'{text}' is not a valid LDAP filter: {invalid}; an LDAP filter looks like {EXAMPLE}"
    return None


def _filter(text: str, start: int) -> int:
    """Parse one parenthesised filter at ``start``; return the position after its ')'."""
    if start >= len(text):
        raise _Invalid(f"the filter ends at character {start} where a '(' should follow")
    if text[start] != "(":
        raise _Invalid(f"'(' expected at character {start + 1}")
    position = start + 1
    if position < len(text) and text[position] in "&|":
        position += 1
        if position >= len(text) or text[position] != "(":
            raise _Invalid(f"'{text[position - 1]}' at character {position} must be followed by (filters)")
        while position < len(text) and text[position] == "(":
            position = _filter(text, position)
    elif position < len(text) and text[position] == "!":
        position = _filter(text, position + 1)
    else:
        close = _item_end(text, position)
        _item(text[position:close], position)
        position = close
    if position >= len(text) or text[position] != ")":
        raise _Invalid(f"the '(' at character {start + 1} has no matching ')'")
    return position + 1


def _item_end(text: str, start: int) -> int:
    """Where a simple item ends: at the first parenthesis, which must be ')'."""
    for position in range(start, len(text)):
        if text[position] == "(":
            raise _Invalid(f"'(' inside a value at character {position + 1} (write it as \\28)")
        if text[position] == ")":
            return position
    return len(text)


def _item(item: str, start: int) -> None:
    """One attribute=value item (``start``: its position in the filter)."""
    if not item:
        raise _Invalid(f"an empty filter '()' at character {start}")
    match = _ITEM.fullmatch(item)
    if match is None or (match.group("extensible") or "").lower() == ":dn":  # ":dn" is no rule
        raise _Invalid(
            f"'{item}' at character {start + 1} is not attribute=value (operators: = ~= >= <=, "
            "=* for presence, attribute:rule:=value for an extensible match)"
        )
    part = "value" if match.group("value") is not None else "ext_value"
    value, at = match.group(part), start + match.start(part) + 1
    if "\x00" in value:
        raise _Invalid(f"a NUL character at character {at + value.index(chr(0))} (write it as \\00)")
    if bad := _BAD_ESCAPE.search(value):
        raise _Invalid(
            f"'\\' at character {at + bad.start()} is not followed by two hex digits (write '\\' as \\5c)"
        )
    operator = match.group("operator")
    if operator in ("~=", ">=", "<=") and "*" in value:
        raise _Invalid(f"'*' in a {operator} value at character {at + value.index('*')} (write it as \\2a)")
