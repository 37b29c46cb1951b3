"""Okta's `filter` and `search` expressions, parsed into predicates over user or group objects.

Grammar (Okta's filter syntax, a SCIM subset): `attr op "value"` with the operators `eq`, `gt`,
`ge`, `lt`, `le`, `sw` and `co`, joined by `and` and `or` (`and` binds tighter) and grouped with
parentheses; operators and the logical words are case-insensitive, attribute names are not.
Values are double-quoted strings (`\\"` escapes a quote), numbers, `true`, `false` or `null`.
Timestamps compare as instants, so `"2024-01-01T00:00:00Z"` and `"2024-01-01T00:00:00.000Z"`
are the same value.

`filter` accepts only the attributes and operators Okta documents for it (`allowed`); `search`
accepts any attribute. Anything else is an `InvalidFilter`, which the routes answer with 400
E0000031.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Getter = Callable[[str], Any]  # attribute name -> value (None when absent)
Predicate = Callable[[Getter], bool]

TIMESTAMP_ATTRIBUTES = frozenset(
    {"created", "activated", "statusChanged", "lastUpdated", "lastMembershipUpdated", "lastLogin"}
)
_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|"(?P<string>(?:[^"\\]|\\.)*)"|(?P<word>[A-Za-z0-9_.:-]+))'
)
_OPERATORS = frozenset({"eq", "gt", "ge", "lt", "le", "sw", "co"})


class InvalidFilter(ValueError):
    """The expression is not one Okta would accept."""


@dataclass(frozen=True, slots=True)
class Allowed:
    """What a `filter` may use: `attributes` with `eq`, and `ordered` ones also with gt/ge/lt/le."""

    attributes: frozenset[str]
    ordered: frozenset[str]


def timestamp(value: str) -> datetime:
    """An ISO 8601 instant ("Z" or an offset; fractions optional) as an aware datetime."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidFilter(f"not a timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse(text: str, allowed: Allowed | None = None) -> Predicate:
    """A predicate for `text`; `allowed` restricts it to a `filter`'s attributes and operators."""
    tokens = _tokenize(text)
    parser = _Parser(tokens, allowed)
    predicate = parser.expression()
    if parser.position != len(tokens):
        raise InvalidFilter(f"unexpected {tokens[parser.position][1]!r}")
    return predicate


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise InvalidFilter(f"cannot read the expression at {text[position:]!r}")
        position = match.end()
        if match["open"]:
            tokens.append(("(", "("))
        elif match["close"]:
            tokens.append((")", ")"))
        elif match["string"] is not None:
            tokens.append(("value", re.sub(r"\\(.)", r"\1", match["string"])))
        else:
            tokens.append(("word", match["word"]))
    if not tokens:
        raise InvalidFilter("empty expression")
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], allowed: Allowed | None) -> None:
        self.tokens = tokens
        self.position = 0
        self.allowed = allowed

    def _peek_word(self) -> str | None:
        if self.position < len(self.tokens) and self.tokens[self.position][0] == "word":
            return str(self.tokens[self.position][1]).lower()
        return None

    def _take(self) -> tuple[str, Any]:
        if self.position >= len(self.tokens):
            raise InvalidFilter("the expression ends too early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self._peek_word() == "or":
            self.position += 1
            terms.append(self.conjunction())
        if len(terms) == 1:
            return terms[0]
        return lambda get: any(term(get) for term in terms)

    def conjunction(self) -> Predicate:
        terms = [self.term()]
        while self._peek_word() == "and":
            self.position += 1
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        return lambda get: all(term(get) for term in terms)

    def term(self) -> Predicate:
        kind, value = self._take()
        if kind == "(":
            inner = self.expression()
            if self._take()[0] != ")":
                raise InvalidFilter("a parenthesis is not closed")
            return inner
        if kind != "word":
            raise InvalidFilter(f"expected an attribute, found {value!r}")
        attribute = str(value)
        operator = str(self._take()[1]).lower()
        if operator not in _OPERATORS:
            raise InvalidFilter(f"unknown operator {operator!r}")
        literal = self._literal()
        self._check(attribute, operator)
        # A `filter` compares values case-sensitively, a `search` does not.
        return _comparison(attribute, operator, literal, fold=self.allowed is None)

    def _literal(self) -> Any:
        kind, value = self._take()
        if kind == "value":
            return value
        if kind != "word":
            raise InvalidFilter(f"expected a value, found {value!r}")
        word = str(value)
        constants: Mapping[str, Any] = {"true": True, "false": False, "null": None}
        if word.lower() in constants:
            return constants[word.lower()]
        try:
            return float(word) if "." in word else int(word)
        except ValueError:
            raise InvalidFilter(f"a string value must be quoted: {word!r}") from None

    def _check(self, attribute: str, operator: str) -> None:
        allowed = self.allowed
        if allowed is None:
            return
        if attribute not in allowed.attributes:
            raise InvalidFilter(f"cannot filter on {attribute!r}")
        if operator != "eq" and attribute not in allowed.ordered:
            raise InvalidFilter(f"the filter supports only eq on {attribute!r}")


def _comparison(attribute: str, operator: str, literal: Any, *, fold: bool) -> Predicate:
    if attribute in TIMESTAMP_ATTRIBUTES and operator in {"eq", "gt", "ge", "lt", "le"}:
        if not isinstance(literal, str):
            raise InvalidFilter(f"{attribute} needs a quoted timestamp")
        when = timestamp(literal)

        def on_time(get: Getter) -> bool:
            value = get(attribute)
            return value is not None and _ORDER[operator](timestamp(value), when)

        return on_time
    if operator in {"sw", "co"}:
        needle = str(literal).lower()

        def on_text(get: Getter) -> bool:
            value = get(attribute)
            if value is None:
                return False
            text = str(value).lower()
            return text.startswith(needle) if operator == "sw" else needle in text

        return on_text
    fold = fold and isinstance(literal, str)

    def on_value(get: Getter) -> bool:
        value = get(attribute)
        if isinstance(value, list):
            return any(_compare(operator, item, literal, fold) for item in value)
        return _compare(operator, value, literal, fold)

    return on_value


def _compare(operator: str, value: Any, literal: Any, fold: bool) -> bool:
    if value is None or literal is None:
        return operator == "eq" and value is literal
    if fold:
        value, literal = str(value).lower(), str(literal).lower()
    try:
        return _ORDER[operator](value, literal)
    except TypeError:
        return False


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
