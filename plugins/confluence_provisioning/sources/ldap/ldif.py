"""IdP frames from an LDIF file, without a server: what ``preview --ldif`` reads.

The file is parsed here (RFC 2849 content records), loaded into ldap3's
in-process mock server, and read by the IdP extraction exactly as a real
directory is read (``idp.snapshot.extract``), so there is one conversion from
entries to frames. Two things a server would add are made up: an entry
without the id attribute (an export has no ``entryUUID``: the server makes it)
gets a stable UUID derived from its DN, and when the rules name no base DN the
top entry of the file stands in for the server's naming context.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import uuid
from pathlib import Path

import ldap3

from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.mapping.dn import DnError, dn_key, parent_key
from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile, resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract

Entry = tuple[str, dict[str, list[str | bytes]], int]  # dn, attributes, line of its dn


class LdifError(ValueError):
    """An LDIF file that cannot be read; the message names the file, the line and the fix."""


def ldif_snapshot(path: str | Path, directory: LdapSourceSettings) -> SourceSnapshot:
    """The IdP frames of the directory in ``path``, read with the rules' ``directory`` settings."""
    entries = read_ldif(path)
    profile = _with_bases(resolve_profile(directory), entries, str(path))
    return extract(_mock_server(entries, profile.id_attribute, str(path)), profile)


def read_ldif(path: str | Path) -> list[Entry]:
    """The content records of an LDIF file; LdifError for anything else."""
    entries: list[Entry] = []
    current: Entry | None = None
    for number, line in _logical_lines(Path(path)):
        if not line.strip():
            if current is not None:
                entries.append(current)
            current = None
            continue
        if line.startswith("#") or (current is None and line.startswith("version:")):
            continue
        name, value = _attribute_value(line, f"{path}:{number}")
        if current is None:
            if name.lower() != "dn":
                raise LdifError(f"{path}:{number}: an entry must start with 'dn:'; found {name!r}")
            current = (str(value), {}, number)
        elif name.lower() == "changetype":
            raise LdifError(
                f"{path}:{number}: change records are not supported; give an export of the "
                "directory (content records only)"
            )
        else:
            current[1].setdefault(name, []).append(value)
    if current is not None:
        entries.append(current)
    return entries


def _logical_lines(path: Path) -> list[tuple[int, str]]:
    """(first line number, text) with folded lines joined (a continuation starts with one space)."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.startswith(" ") and lines and lines[-1][1]:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        else:
            lines.append((number, raw))
    return lines


def _attribute_value(line: str, where: str) -> tuple[str, str | bytes]:
    name, colon, rest = line.partition(":")
    if not colon or not name.strip():
        raise LdifError(f"{where}: expected 'attribute: value', found {line[:60]!r}")
    if rest.startswith(":"):
        try:
            raw = base64.b64decode(rest[1:].strip(), validate=True)
        except binascii.Error:
            raise LdifError(f"{where}: the base64 value of {name!r} does not decode") from None
        try:
            return name, raw.decode("utf-8")
        except UnicodeDecodeError:
            return name, raw  # a binary value, e.g. objectGUID
    if rest.startswith("<"):
        raise LdifError(f"{where}: values read from a URL ({name}:<) are not supported; inline the value")
    return name, rest.strip()


def _mock_server(entries: list[Entry], id_attribute: str, path: str) -> ldap3.Connection:
    connection = ldap3.Connection(ldap3.Server("ldif"), client_strategy=ldap3.MOCK_SYNC)
    for dn, attributes, line in entries:
        if not any(name.lower() == id_attribute.lower() for name in attributes):
            attributes = {**attributes, id_attribute: [_made_up_id(dn, id_attribute)]}
        if not connection.strategy.add_entry(dn, attributes):
            raise LdifError(f"{path}:{line}: entry {dn!r} cannot be loaded (a repeated or invalid DN?)")
    connection.bind()
    return connection


def _made_up_id(dn: str, id_attribute: str) -> str | bytes:
    made_up = uuid.uuid5(uuid.NAMESPACE_X500, dn_key(dn))
    return made_up.bytes_le if id_attribute.lower() == "objectguid" else str(made_up)


def _with_bases(profile: DirectoryProfile, entries: list[Entry], path: str) -> DirectoryProfile:
    """The profile with the file's top entry for the naming context the searches start from."""
    if profile.user_base_dn and profile.group_base_dn:
        return profile
    top = _top_entry(entries, path)
    return dataclasses.replace(
        profile,
        user_base_dn=profile.user_base_dn or _under(profile.user_base_rdn, top),
        group_base_dn=profile.group_base_dn or _under(profile.group_base_rdn, top),
    )


def _under(relative: str | None, top: str) -> str:
    return f"{relative},{top}" if relative else top


def _top_entry(entries: list[Entry], path: str) -> str:
    keys = {}
    for dn, _, line in entries:
        try:
            keys[dn] = dn_key(dn)
        except DnError as error:
            raise LdifError(f"{path}:{line}: {error}") from None
    known = set(keys.values())
    tops = [dn for dn, key in keys.items() if parent_key(key) not in known]
    if len(tops) != 1:
        raise LdifError(
            f"{path}: the file has {len(tops)} top entries ({', '.join(tops[:3])}), so its naming "
            "context is unclear; set directory.user_base_dn and directory.group_base_dn in the rules"
        )
    return tops[0]
