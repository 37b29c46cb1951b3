"""Prepares LDIF files for slapadd: one file, with memberOf filled in.

slapadd writes straight to the database and runs no overlays, so the memberof
overlay never sees a bulk-loaded group. To serve what a live server would, the
memberOf values are computed here the way the overlay computes them: every
`member` of a groupOfNames that is an entry of the load gets the group's DN.
Two streaming passes keep memory flat for 100,000-entry files.
"""

import base64
import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.openldap.dn import canonical_dn
from sandbox.openldap.errors import SandboxError

# RFC 2849 SAFE-STRING: anything else goes out base64-encoded.
_SAFE_STRING = re.compile(r"[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*")


@dataclass
class _Record:
    source: str
    line: int
    lines: list[str]  # unfolded "attr: value" lines, comments dropped


@dataclass
class PreparedLdif:
    """The merged file slapadd reads, and where each of its entries came from."""

    path: Path
    entries: int = 0
    starts: list[int] = field(default_factory=list)  # line of each entry in `path`
    origins: list[str] = field(default_factory=list)  # "source:line" of each entry

    def explain(self, slapadd_output: str) -> str:
        """Point slapadd's `line=N` (a line of the merged file) back at the source file."""

        def origin(match: re.Match[str]) -> str:
            index = bisect.bisect_right(self.starts, int(match[1])) - 1
            return f"{match[0]} = {self.origins[index]}" if index >= 0 else match[0]

        return re.sub(r"line=(\d+)", origin, slapadd_output)


def prepare_bulk_ldif(sources: Sequence[Path], target: Path) -> PreparedLdif:
    """Write `sources` as one LDIF to `target` with memberOf added."""
    groups_of_member: dict[str, list[str]] = defaultdict(list)
    for record in _records(sources):
        if "groupofnames" in {value.lower() for value in _values(record, "objectclass")}:
            group_dn = _dn(record)
            for member in _values(record, "member"):
                groups_of_member[canonical_dn(member)].append(group_dn)

    prepared = PreparedLdif(target)
    line = 1
    with target.open("w", encoding="utf-8") as out:
        for record in _records(sources):
            present = {canonical_dn(value) for value in _values(record, "memberof")}
            added = [
                f"memberOf{_encode(group)}"
                for group in groups_of_member.get(canonical_dn(_dn(record)), ())
                if canonical_dn(group) not in present
            ]
            out.write("\n".join([*record.lines, *added]) + "\n\n")
            prepared.starts.append(line)
            prepared.origins.append(f"{record.source}:{record.line}")
            prepared.entries += 1
            line += len(record.lines) + len(added) + 1
    return prepared


def _records(sources: Sequence[Path]) -> Iterator[_Record]:
    for source in sources:
        with source.open(encoding="utf-8") as stream:
            yield from _parse(stream, str(source))


def _parse(stream: Iterable[str], source: str) -> Iterator[_Record]:
    lines: list[str] = []
    start = 0
    in_comment = False  # a comment may be folded too; its continuation lines are dropped with it
    for number, raw in enumerate(stream, start=1):
        text = raw.rstrip("\r\n")
        if not text:
            yield from _checked(_Record(source, start, lines))
            lines, in_comment = [], False
        elif text.startswith(" "):
            if in_comment:
                continue
            if not lines:
                raise SandboxError(f"{source}:{number}: a continued line with no line before it")
            lines[-1] += text[1:]
        elif text.startswith("#"):
            in_comment = True
        else:
            in_comment = False
            if not lines:
                start = number
            lines.append(text)
    yield from _checked(_Record(source, start, lines))


def _checked(record: _Record) -> Iterator[_Record]:
    """Yield the record if it is an entry; skip blank runs and the `version: 1` line."""
    if record.lines and record.lines[0].lower().startswith("version:"):
        record.lines.pop(0)
    if not record.lines:
        return
    if not record.lines[0].lower().startswith("dn:"):
        raise SandboxError(f"{record.source}:{record.line}: an LDIF entry must start with 'dn:'")
    if any(line.lower().startswith("changetype:") for line in record.lines):
        raise SandboxError(
            f"{record.source}:{record.line}: change records cannot be bulk-loaded; "
            "apply them after start with add_ldif()/modify_ldif()"
        )
    yield record


def _dn(record: _Record) -> str:
    return _decode(record.lines[0])[1]


def _values(record: _Record, attribute: str) -> Iterator[str]:
    for line in record.lines[1:]:
        name, value = _decode(line)
        if name.split(";", 1)[0].lower() == attribute:
            yield value


def _decode(line: str) -> tuple[str, str]:
    name, _, rest = line.partition(":")
    if rest.startswith(":"):
        return name, base64.b64decode(rest[1:].strip()).decode("utf-8")
    return name, rest.lstrip(" ")


def _encode(value: str) -> str:
    """The ': value' or ':: base64' part of an LDIF line."""
    if _SAFE_STRING.fullmatch(value):
        return f": {value}"
    return ":: " + base64.b64encode(value.encode("utf-8")).decode("ascii")
