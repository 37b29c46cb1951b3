"""Prepares LDIF files for slapadd: one file, with memberOf filled in.

slapadd writes straight to the database and runs no overlays, so the memberof
overlay never sees a bulk-loaded group. To serve what a live server would, the
memberOf values are computed here the way the overlay computes them: every
`member` of a groupOfNames that is an entry of the load gets the group's DN.
Two passes over the files, one file in memory at a time: about 2 s of CPU for
a 100,000-user, 5,000-group directory.
"""

import base64
import bisect
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
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
        # Attribute names start lines and are never encoded: a cheap test skips the users.
        if "\nmember" not in "\n".join(record.lines).lower():
            continue
        fields = _fields(record, ("objectclass", "member"))
        if any(value.lower() == "groupofnames" for value in fields["objectclass"]):
            group_dn = _dn(record)
            for member in fields["member"]:
                groups_of_member[canonical_dn(member)].append(group_dn)

    prepared = PreparedLdif(target)
    line = 1
    with target.open("w", encoding="utf-8") as out:
        for record in _records(sources):
            groups = groups_of_member.get(canonical_dn(_dn(record)), [])
            if groups:  # an export from a live server (slapcat) already carries memberOf
                present = {canonical_dn(value) for value in _fields(record, ("memberof",))["memberof"]}
                groups = [group for group in groups if canonical_dn(group) not in present]
            added = [f"memberOf{_encode(group)}" for group in groups]
            out.write("\n".join([*record.lines, *added]) + "\n\n")
            prepared.starts.append(line)
            prepared.origins.append(f"{record.source}:{record.line}")
            prepared.entries += 1
            line += len(record.lines) + len(added) + 1
    return prepared


def _records(sources: Sequence[Path]) -> Iterator[_Record]:
    for source in sources:
        yield from _parse(source.read_text(encoding="utf-8"), str(source))


def _parse(text: str, source: str) -> Iterator[_Record]:
    """Split on blank lines, unfold, drop comments: whole-string operations keep this fast."""
    line = 1
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        body = chunk.lstrip("\n")  # runs of blank lines leave newlines at the edges
        start = line + len(chunk) - len(body)
        line += chunk.count("\n") + 2
        if body.startswith(" "):
            raise SandboxError(f"{source}:{start}: a continued line with no line before it")
        # A folded comment stays one comment line, and is dropped with it.
        lines = [
            entry for entry in body.replace("\n ", "").split("\n") if entry and not entry.startswith("#")
        ]
        if lines and lines[0].lower().startswith("version:"):
            lines.pop(0)
        if lines:
            if body.startswith("#"):  # point at the dn line, below the comments
                start += next(
                    (i for i, entry in enumerate(body.split("\n")) if entry[:3].lower() == "dn:"), 0
                )
            yield _checked(_Record(source, start, lines))


def _checked(record: _Record) -> _Record:
    if not record.lines[0].lower().startswith("dn:"):
        raise SandboxError(f"{record.source}:{record.line}: an LDIF entry must start with 'dn:'")
    # RFC 2849: controls and changetype come right after the dn.
    if len(record.lines) > 1 and record.lines[1].lower().startswith(("changetype:", "control:")):
        raise SandboxError(
            f"{record.source}:{record.line}: change records cannot be bulk-loaded; "
            "apply them after start with add_ldif()/modify_ldif()"
        )
    return record


def _dn(record: _Record) -> str:
    return _decode(record, record.lines[0])


def _fields(record: _Record, attributes: tuple[str, ...]) -> dict[str, list[str]]:
    """The decoded values of `attributes` (lower-case names) in one pass over the record."""
    found: dict[str, list[str]] = {name: [] for name in attributes}
    for line in record.lines[1:]:
        name = line[: line.find(":")].split(";", 1)[0].lower()
        if name in found:
            found[name].append(_decode(record, line))
    return found


def _decode(record: _Record, line: str) -> str:
    name, _, rest = line.partition(":")
    if not rest.startswith(":"):
        return rest.lstrip(" ")
    try:
        return base64.b64decode(rest[1:].strip(), validate=True).decode("utf-8")
    except ValueError as error:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise SandboxError(
            f"{record.source}:{record.line}: {name} is not base64 of UTF-8 text: {error}"
        ) from None


def _encode(value: str) -> str:
    """The ': value' or ':: base64' part of an LDIF line."""
    if _SAFE_STRING.fullmatch(value):
        return f": {value}"
    return ":: " + base64.b64encode(value.encode("utf-8")).decode("ascii")
