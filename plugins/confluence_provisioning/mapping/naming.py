"""The Confluence username, display name and email of each user, and why a value cannot be used.

A field is read from its source column (``login``, ``display_name``, ``email``
or an ``attr.*`` column; of a multi-valued attribute the first value),
lower-cased if the rule says so, then rewritten by each rewrite in order.
Every step runs once per distinct value, then maps back onto the rows.

A display name that is missing or blank falls back to the Confluence
username: Confluence requires one, and the username is what it would show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from confluence_provisioning import frames
from confluence_provisioning.mapping.patterns import compile_pattern, compile_rewrite, rewrite_all, search_all
from confluence_provisioning.printable import (
    CONTROL_CHARACTERS,
    CONTROL_CLASS,
    FORMAT_CHARACTERS,
    FORMAT_CLASS,
    code_points,
    printable,
)

if TYPE_CHECKING:  # settings imports mapping.patterns; mapping needs settings only for its types
    import pandas as pd

    from confluence_provisioning.settings import AttributeRule

# Confluence's rules for a new user (see the contracts page)
FORBIDDEN_IN_USERNAME = "\\,+<>'\""
RESERVED_NAME = "anonymous"
MAX_LENGTH = 255  # characters, for a username, group name, display name or email
_ODD_USERNAME = compile_pattern(r"[\s\p{Z}\\,+<>'\"]")  # whitespace or a forbidden character
# no terminal, log or reader should be handed these (see printable.py)
_CONTROL = compile_pattern(CONTROL_CLASS)
_FORMAT = compile_pattern(FORMAT_CLASS)
SHOWN_LENGTH = 60  # a reason quotes this much of a value that is too long
# one @, something before it, a dotted domain after it, no spaces
_EMAIL = compile_pattern(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")


def field_values(users: pd.DataFrame, rule: AttributeRule, column: str) -> pd.Series:
    """The value of one Confluence field for every user (``<NA>`` where the source has none).

    ``column`` is the field's own users-frame column, used when the rule names no attribute.
    """
    source = source_column(rule.attribute) if rule.attribute else column
    if source not in users.columns:
        raise ValueError(
            f"the IdP users frame has no column '{source}': "
            f"add '{rule.attribute}' to directory.extra_attributes in the rules file"
        )
    # the first value of a multi-valued attribute (the extraction joins values with newlines)
    values = users[source].astype(frames.STRING).str.replace("(?s)\n.*", "", regex=True)
    if rule.lowercase:
        values = values.str.lower()
    return rewrite_all(
        values, [compile_rewrite(rewrite.pattern, rewrite.replace) for rewrite in rule.rewrites]
    )


def source_column(attribute: str) -> str:
    """The users-frame column of an attribute named in the rules (case-insensitive)."""
    name = attribute.lower()
    return name if name in frames.USER_COLUMNS else f"{frames.ATTRIBUTE_PREFIX}{name}"


def username_problems(names: pd.Series) -> pd.Series:
    """Per user, why Confluence would refuse the username (None: it would not)."""
    suspect = (
        names.isna()
        | names.str.strip().eq("")
        | names.eq(RESERVED_NAME)
        | names.ne(names.str.lower())
        | search_all(names, _ODD_USERNAME)
        | unprintable(names, invisible=True)
    )
    return _explained(names, suspect, username_problem)


def display_name_problems(names: pd.Series) -> pd.Series:
    """Per user, why Confluence would refuse the (never missing: see above) display name."""
    suspect = names.str.strip().str.lower().eq(RESERVED_NAME) | unprintable(names, invisible=False)
    return _explained(names, suspect, display_name_problem)


def email_problems(emails: pd.Series) -> pd.Series:
    """Per user, why the email cannot be a Confluence user's (it requires a valid one)."""
    suspect = emails.isna() | ~search_all(emails, _EMAIL) | unprintable(emails, invisible=False)
    return _explained(emails, suspect, email_problem)


def group_name_problems(names: pd.Series) -> pd.Series:
    """Per group, why Confluence (or whoever reads its name) cannot take the group name (None: fine)."""
    return _explained(names, unprintable(names, invisible=True), group_name_problem)


def unprintable(values: pd.Series, *, invisible: bool) -> pd.Series:
    """Which values are too long or hold control characters (and, if ``invisible``, format ones)."""
    found = values.str.len().gt(MAX_LENGTH).fillna(False) | search_all(values, _CONTROL)
    return found | search_all(values, _FORMAT) if invisible else found


def username_problem(name: str | None) -> str | None:
    if name is None or not name.strip():
        return "its username is blank"
    if name == RESERVED_NAME:
        return f"its username '{name}' is reserved by Confluence"
    problems = []
    if name != name.lower():
        problems.append("is not lower case (set users.username.lowercase: true)")
    if any(char.isspace() and char not in CONTROL_CHARACTERS for char in name):
        problems.append("contains whitespace")
    forbidden = [char for char in FORBIDDEN_IN_USERNAME if char in name]
    if forbidden:
        kind = "a forbidden character" if len(forbidden) == 1 else "forbidden characters"
        problems.append(f"contains {kind} ({' '.join(forbidden)})")
    problems += _unprintable_problems(name, invisible=True)
    if not problems:
        return None
    return f"its username '{_quoted(name)}' {' and '.join(problems)}, which Confluence does not allow"


def display_name_problem(name: str | None) -> str | None:
    if name is None:
        return None
    if name.strip().lower() == RESERVED_NAME:
        return f"its display name '{name}' is reserved by Confluence"
    problems = _unprintable_problems(name, invisible=False)
    return f"its display name '{_quoted(name)}' {' and '.join(problems)}" if problems else None


def email_problem(email: str | None) -> str | None:
    if email is None or not email.strip():
        return "it has no email address, and Confluence requires one"
    problems = _unprintable_problems(email, invisible=False)
    if problems:
        return f"its email '{_quoted(email)}' {' and '.join(problems)}"
    if not _EMAIL.search(email):
        return f"its email '{email}' is not a valid address"
    return None


def group_name_problem(name: str | None) -> str | None:
    problems = [] if name is None else _unprintable_problems(name, invisible=True)
    return f"its Confluence group name '{_quoted(name or '')}' {' and '.join(problems)}" if problems else None


def _unprintable_problems(value: str, *, invisible: bool) -> list[str]:
    problems = []
    if len(value) > MAX_LENGTH:
        problems.append(f"is {len(value)} characters long, more than the {MAX_LENGTH} Confluence accepts")
    if controls := code_points(value, CONTROL_CHARACTERS):
        problems.append(f"contains control characters ({controls})")
    if invisible and (formats := code_points(value, FORMAT_CHARACTERS)):
        problems.append(f"contains invisible bidirectional or zero-width characters ({formats})")
    return problems


def _quoted(value: str) -> str:
    """The value as a reason quotes it: escaped, and cut short when it is too long to read."""
    shown = printable(value)
    return shown if len(value) <= SHOWN_LENGTH else f"{printable(value[:SHOWN_LENGTH])}..."


def _explained(
    values: pd.Series, suspect: pd.Series, explain: Callable[[str | None], str | None]
) -> pd.Series:
    """``explain`` once per distinct suspect value, mapped onto the rows; None for the others."""
    suspect = suspect.fillna(True).astype(bool)
    reasons = {value: explain(value) for value in values[suspect].dropna().unique()}
    explained = values.where(suspect).map(reasons).astype(object)
    missing = values.isna() & suspect
    explained[missing] = explain(None)
    return explained.where(suspect, None)
