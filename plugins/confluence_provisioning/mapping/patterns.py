"""Administrator-written regular expressions, run with RE2 so that no pattern can hang a run.

RE2 matches in time linear in the text: ``(a+)+$`` against a long name costs
microseconds instead of the exponential backtracking of Python's ``re``. The
syntax is Python's with two differences: ``\\Z`` is accepted and translated to
RE2's ``\\z``, and look-around and back-references *in patterns* do not exist
(a pattern that uses them is refused when the rules file is loaded).

Replacements use Python's template syntax (``\\1``, ``\\g<1>``, ``\\g<name>``,
``\\\\`` for a backslash) and are expanded here, not by the ``re2`` module,
whose own expansion garbles non-ASCII literal text (``é`` becomes ``Ã©``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import re2

PATTERN_HINT = (
    "write an RE2 regular expression (Python syntax without look-around such as (?=...) "
    "and without back-references such as \\1 inside the pattern)"
)
REPLACE_HINT = "use \\1 or \\g<name> for a captured group and \\\\ for a backslash"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is reported to the admin, not to stderr


class PatternError(ValueError):
    """A pattern or replacement that cannot be used; the message says why."""


@dataclass(frozen=True)
class Pattern:
    """A compiled administrator pattern; ``source`` is what the admin wrote."""

    source: str
    regex: Any  # re2's compiled object (the module has no public type for it)

    def search(self, text: str) -> bool:
        return self.regex.search(text) is not None


@dataclass(frozen=True)
class Rewrite:
    """``pattern`` -> ``replace`` over every match, as ``re.sub`` does."""

    pattern: Pattern
    template: tuple[str | int, ...]  # literal text and group numbers, in order

    def apply(self, text: str) -> str:
        return self.pattern.regex.sub(self._expand, text)

    def _expand(self, match: Any) -> str:
        return "".join(part if isinstance(part, str) else match.group(part) or "" for part in self.template)


def compile_pattern(source: str) -> Pattern:
    """The RE2 form of a Python-syntax pattern; PatternError says why it does not compile."""
    try:
        return Pattern(source, re2.compile(_to_re2_syntax(source), _OPTIONS))
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise PatternError(f"pattern '{source}' does not compile: {reason}") from None


def compile_rewrite(pattern: str, replace: str) -> Rewrite:
    """A rewrite whose replacement only names groups the pattern has."""
    compiled = compile_pattern(pattern)
    return Rewrite(compiled, _parse_template(replace, compiled))


def rewrite_all(values: Iterable[str], rewrites: Sequence[Rewrite]) -> dict[str, str]:
    """Each distinct value -> the result of the rewrites applied in order (one RE2 pass per value)."""
    results: dict[str, str] = {}
    for value in values:
        if value not in results:
            result = value
            for rewrite in rewrites:
                result = rewrite.apply(result)
            results[value] = result
    return results


def _to_re2_syntax(source: str) -> str:
    r"""Python's ``\Z`` (end of text) is RE2's ``\z``; everything else RE2 reads as Python does."""
    out: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            escaped = source[index + 1]
            out.append("\\z" if escaped == "Z" else char + escaped)
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _parse_template(replace: str, pattern: Pattern) -> tuple[str | int, ...]:
    """Python's replacement syntax -> literal pieces and group numbers, checked against the pattern."""
    parts: list[str | int] = []
    literal: list[str] = []
    index = 0
    while index < len(replace):
        char = replace[index]
        if char != "\\":
            literal.append(char)
            index += 1
            continue
        group, index = _parse_group_reference(replace, index, pattern)
        if group is None:
            literal.append("\\")
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(group)
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def _parse_group_reference(replace: str, index: int, pattern: Pattern) -> tuple[int | None, int]:
    """The group named at ``replace[index]`` (a backslash) and the index after it; None for ``\\\\``."""
    rest = replace[index + 1 :]
    if not rest:
        raise PatternError(f"replacement '{replace}' ends with a lone backslash")
    if rest.startswith("\\"):
        return None, index + 2
    digits = rest[:2] if rest[:2].isdigit() else rest[:1]
    if digits.isdigit() and digits[0] != "0":
        return _check_group(int(digits), replace, pattern), index + 1 + len(digits)
    if rest.startswith("g<") and ">" in rest:
        name = rest[2 : rest.index(">")]
        group = int(name) if name.isdigit() else pattern.regex.groupindex.get(name)
        if group is None:
            raise PatternError(
                f"replacement '{replace}' names group <{name}>, which pattern '{pattern.source}' "
                "does not define"
            )
        return _check_group(group, replace, pattern), index + 4 + len(name)
    raise PatternError(f"replacement '{replace}' has an unknown escape \\{rest[:1]}")


def _check_group(group: int, replace: str, pattern: Pattern) -> int:
    if group > pattern.regex.groups:
        raise PatternError(
            f"replacement '{replace}' refers to group {group}, but pattern '{pattern.source}' "
            f"has {pattern.regex.groups} group(s)"
        )
    return group
