"""Administrator-written regular expressions, run with RE2 so that no pattern can hang a run.

RE2 matches in time linear in the text: ``(a+)+$`` against a long name costs
microseconds instead of the exponential backtracking of Python's ``re``.
Patterns are checked with the ``re2`` module (google-re2) when the rules file
is loaded, and run over whole columns with Arrow's compute functions, which
are RE2 too (one C++ pass per column instead of a Python call per value).

The syntax is Python's with two differences: ``\\Z`` is accepted and
translated to RE2's ``\\z``, and look-around and back-references *inside a
pattern* do not exist (such a pattern is refused when the rules are loaded).
Replacements use Python's syntax (``\\1``, ``\\g<1>``, ``\\g<name>``, ``\\\\`` for
a backslash), translated to RE2's (which numbers groups 0 to 9 only). One
edge differs from ``re.sub``: a pattern that can match empty text does not
match again right after a match (``x*`` turns ``ax`` into ``.a.``, not ``.a..``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import re2

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# pandas and pyarrow are imported by the column functions only: checking the patterns of a rules
# file (``confluence-provisioning validate``) loads neither

PATTERN_HINT = (
    "write an RE2 regular expression (Python syntax without look-around such as (?=...) "
    "and without back-references such as \\1 inside the pattern)"
)
REPLACE_HINT = "use \\1 to \\9 or \\g<name> for a captured group and \\\\ for a backslash"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is reported to the admin, not to stderr
_MAX_GROUP = 9  # RE2 rewrite strings know \0 to \9


class PatternError(ValueError):
    """A pattern or replacement that cannot be used; the message says why."""


@dataclass(frozen=True)
class Pattern:
    """A checked administrator pattern: ``source`` as written, ``syntax`` as RE2 reads it."""

    source: str
    syntax: str
    regex: Any  # re2's compiled object (the module has no public type for it)

    def search(self, text: str) -> bool:
        return self.regex.search(text) is not None


@dataclass(frozen=True)
class Rewrite:
    """``pattern`` -> ``replacement`` over every match, as ``re.sub`` does; replacement in RE2 syntax."""

    pattern: Pattern
    replacement: str

    def apply(self, text: str) -> str:
        import pandas as pd

        result = rewrite_all(pd.Series([text], dtype="string"), [self])[0]
        return str(result)


def compile_pattern(source: str) -> Pattern:
    """The RE2 form of a Python-syntax pattern; PatternError says why it does not compile."""
    syntax = _to_re2_syntax(source)
    try:
        return Pattern(source, syntax, re2.compile(syntax, _OPTIONS))
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise PatternError(f"pattern '{source}' does not compile: {reason}") from None


def compile_rewrite(pattern: str, replace: str) -> Rewrite:
    """A rewrite whose replacement only names groups the pattern has."""
    compiled = compile_pattern(pattern)
    return Rewrite(compiled, _to_re2_replacement(replace, compiled))


def search_all(values: pd.Series, pattern: Pattern) -> pd.Series:
    """Per value, whether the pattern is found in it (False for a missing value)."""
    import pandas as pd
    import pyarrow.compute as pc

    found = pc.fill_null(pc.match_substring_regex(_arrow(values), pattern=pattern.syntax), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)


def rewrite_all(values: pd.Series, rewrites: Sequence[Rewrite]) -> pd.Series:
    """The values with each rewrite applied in order (missing values stay missing)."""
    import pandas as pd
    import pyarrow.compute as pc

    result = _arrow(values)
    for rewrite in rewrites:
        result = pc.replace_substring_regex(
            result, pattern=rewrite.pattern.syntax, replacement=rewrite.replacement
        )
    return pd.Series(pd.arrays.ArrowStringArray(result), index=values.index, dtype="string")


def _arrow(values: pd.Series) -> pa.Array:
    import pyarrow as pa

    return pa.array(values.astype("string"), type=pa.large_string())


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


def _to_re2_replacement(replace: str, pattern: Pattern) -> str:
    """Python's replacement syntax in RE2's: groups as \\0-\\9, a literal backslash as \\\\."""
    out: list[str] = []
    index = 0
    while index < len(replace):
        char = replace[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        group, index = _group_reference(replace, index, pattern)
        out.append("\\\\" if group is None else f"\\{group}")
    return "".join(out)


def _group_reference(replace: str, index: int, pattern: Pattern) -> tuple[int | None, int]:
    """The group named at ``replace[index]`` (a backslash) and the index after it; None for ``\\\\``."""
    rest = replace[index + 1 :]
    if not rest:
        raise PatternError(f"replacement '{replace}' ends with a lone backslash")
    if rest.startswith("\\"):
        return None, index + 2
    digits = rest[:2] if rest[:2].isdigit() else rest[:1]
    if digits.isdigit() and digits[0] != "0":
        return _checked_group(int(digits), replace, pattern), index + 1 + len(digits)
    if rest.startswith("g<") and ">" in rest:
        name = rest[2 : rest.index(">")]
        group = int(name) if name.isdigit() else pattern.regex.groupindex.get(name)
        if group is None:
            raise PatternError(
                f"replacement '{replace}' names group <{name}>, which pattern '{pattern.source}' "
                "does not define"
            )
        return _checked_group(group, replace, pattern), index + 4 + len(name)
    raise PatternError(f"replacement '{replace}' has an unknown escape \\{rest[:1]}")


def _checked_group(group: int, replace: str, pattern: Pattern) -> int:
    if group > pattern.regex.groups:
        raise PatternError(
            f"replacement '{replace}' refers to group {group}, but pattern '{pattern.source}' "
            f"has {pattern.regex.groups} group(s)"
        )
    if group > _MAX_GROUP:
        raise PatternError(f"replacement '{replace}' refers to group {group}; RE2 numbers groups 1 to 9 only")
    return group
