"""A test directory as plain Python objects, loaded from LDIF: what every source emulator serves.

The Entra and Okta emulators (and any later one) load the same LDIF that slapd
loads (``example.ldif``, or change records applied on top of it), so one test
directory can be synced through each source to the same result. This module is
the neutral part: it knows LDIF and the three group classes, nothing of any
vendor's API. Each emulator maps users and groups to its own shapes.

What it models, and how it follows slapd (with the sandbox's refint overlay):

- A *user* is an entry of class inetOrgPerson, person, organizationalPerson,
  posixAccount or account; a *group* one of groupOfNames (``member``),
  groupOfUniqueNames (``uniqueMember``) or posixGroup (``memberUid``). Other
  entries (the suffix, OUs) are *containers*.
- Every user and group has a stable ``id``: its ``entryUUID`` when the LDIF
  gives one, else a UUID derived from its DN at creation (the same on every
  load, a fresh one when a deleted DN is added again). A rename (modrdn) keeps
  the id, as a directory's entryUUID or an IdP's object id does.
- ``disabled`` is true when the entry has ``pwdAccountLockedTime``.
- ``member``/``uniqueMember`` values are DNs, matched parsed (case, spacing and
  escaping do not matter); the ones naming an entry become ids, the others stay
  as written in ``unresolved`` (and resolve if that DN is added later).
  Deleting an entry removes it from every group and renaming it keeps it there,
  as refint does. ``memberUid`` values are user names, matched to ``uid``
  case-sensitively when members are asked for (slapd does no resolution there).
- Change records (add, delete, modify with add/delete/replace, modrdn/moddn)
  are applied all or nothing; ``apply_ldif`` returns what changed, with the
  member ids each group gained and lost, including the refint side effects.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

from sandbox.openldap.dn import canonical_dn

USER_CLASSES = frozenset({"inetorgperson", "person", "organizationalperson", "posixaccount", "account"})
MEMBER_ATTRIBUTES = {
    "groupofnames": "member",
    "groupofuniquenames": "uniquemember",
    "posixgroup": "memberuid",
}
Value = str | bytes


class LdifError(ValueError):
    """LDIF that cannot be read or applied; the message names where and the fix."""


@dataclasses.dataclass
class Entry:
    """What users and groups share: the id, the DN as written, the attributes by lower-case name."""

    id: str
    dn: str
    attributes: dict[str, list[Value]]

    def values(self, name: str) -> list[Value]:
        return self.attributes.get(name.lower(), [])

    def first(self, name: str) -> str | None:
        """The first value of ``name`` as text, or None."""
        for value in self.values(name):
            return value if isinstance(value, str) else value.decode("utf-8", errors="replace")
        return None

    @property
    def object_classes(self) -> frozenset[str]:
        return frozenset(str(value).lower() for value in self.values("objectClass"))

    @property
    def rdn(self) -> tuple[str, str]:
        """(attribute, value) of the first RDN, the value unescaped (``uid=a\\,b`` -> a,b)."""
        return first_rdn(self.dn)

    @property
    def parent_dn(self) -> str:
        """The canonical DN of the entry above (lower case: compare, do not display)."""
        return parent_of(canonical_dn(self.dn))


@dataclasses.dataclass
class User(Entry):
    @property
    def login(self) -> str:
        """The RDN value (``uid``), which is the login even when the entry has several uid values."""
        return self.rdn[1]

    @property
    def disabled(self) -> bool:
        return "pwdaccountlockedtime" in self.attributes


@dataclasses.dataclass
class Group(Entry):
    kind: str = "groupofnames"  # lower-case object class: groupofnames, groupofuniquenames, posixgroup
    # DN-valued members (member, uniqueMember): ids of the entries they name, in order (a dict as an
    # ordered set), and the values naming no entry by canonical DN, as written
    members: dict[str, None] = dataclasses.field(default_factory=dict)
    unresolved_by_dn: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.rdn[1]

    @property
    def member_ids(self) -> list[str]:
        return list(self.members)

    @property
    def unresolved(self) -> list[str]:
        return list(self.unresolved_by_dn.values())


@dataclasses.dataclass(frozen=True)
class DirectMembers:
    user_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    unresolved: tuple[str, ...]  # values naming no user or group (posixGroup: the memberUid as written)


@dataclasses.dataclass(frozen=True)
class Change:
    """One object a change set touched.

    ``op``: add, delete, modify, modrdn; ``kind``: user, group, container.
    """

    op: str
    kind: str
    id: str | None  # None for containers
    dn: str
    attributes: tuple[str, ...] = ()  # lower-case names whose values changed (modify)
    members_added: tuple[str, ...] = ()  # user and group ids (groups only)
    members_removed: tuple[str, ...] = ()


class DirectoryModel:
    """Users, groups and containers of one test directory."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.containers: dict[str, Entry] = {}  # canonical DN -> entry
        self._by_dn: dict[str, Entry] = {}  # canonical DN -> user, group or container
        self._uses: dict[str, int] = {}  # canonical DN -> how many entries had it (for fresh ids)
        self._pending: dict[str, set[str]] = {}  # canonical DN of an unresolved member -> group ids
        self._children: dict[str, int] = {}  # canonical DN -> how many entries are right below it

    # -- loading and changing -------------------------------------------------------------------

    @classmethod
    def from_ldif(cls, source: str | Path, *, name: str | None = None) -> DirectoryModel:
        """A directory from LDIF content records (a path, or the text itself with ``name`` for errors)."""
        model = cls()
        model.apply_ldif(source, name=name, content=True)
        return model

    def apply_ldif(
        self, source: str | Path, *, name: str | None = None, content: bool = False
    ) -> list[Change]:
        """Apply LDIF records, all or nothing, and return what changed.

        A record without ``changetype`` is an add (as ``ldapmodify -a``); with
        ``content=True`` change records are refused (a directory export).
        """
        text, where = _text_and_name(source, name)
        records = list(parse_ldif(text, where))
        if content:
            for record in records:
                if record.changetype != "add" or record.explicit:
                    raise LdifError(
                        f"{where}:{record.line}: a change record in a directory file; give content "
                        "records only, or apply changes with apply_ldif"
                    )
        work = copy.deepcopy(self) if self._by_dn else self
        by_uid = work.uid_index()
        before = {gid: work._member_snapshot(group, by_uid) for gid, group in work.groups.items()}
        touched: list[tuple[Record, Entry | None, dict[str, list[Value]] | None]] = []
        for record in records:
            entry, old = work._apply(record, where)
            touched.append((record, entry, old))
        if work is not self:
            self.__dict__.update(work.__dict__)
        return self._changes(touched, before) if not content else []

    def add_entry(self, dn: str, attributes: dict[str, list[Value]]) -> Entry:
        """Add one entry (attribute names in any case); LdifError if the DN exists."""
        key = canonical_dn(dn)
        if key in self._by_dn:
            raise LdifError(f"entry {dn!r} already exists")
        attributes = {name.lower(): list(values) for name, values in attributes.items()}
        classes = {str(value).lower() for value in attributes.get("objectclass", [])}
        kind = next((c for c in MEMBER_ATTRIBUTES if c in classes), None)
        if kind is None and not classes & USER_CLASSES:
            entry = Entry(id="", dn=dn, attributes=attributes)
            self.containers[key] = entry
        else:
            entry_id = self._new_id(key, attributes)
            if entry_id in self.users or entry_id in self.groups:
                raise LdifError(f"entry {dn!r} repeats the entryUUID {entry_id}")
            if kind is None:
                entry = User(id=entry_id, dn=dn, attributes=attributes)
                self.users[entry_id] = entry
            else:
                entry = Group(id=entry_id, dn=dn, attributes=attributes, kind=kind)
                self.groups[entry_id] = entry
                self._set_dn_members(entry)
        self._index(key, entry)
        for group_id in self._pending.pop(key, set()) if entry.id else ():
            group = self.groups[group_id]
            del group.unresolved_by_dn[key]
            group.members[entry.id] = None
        return entry

    # -- reading --------------------------------------------------------------------------------

    def entry(self, dn: str) -> Entry | None:
        """The user, group or container with this DN (any spelling), or None."""
        return self._by_dn.get(canonical_dn(dn))

    def user_by_login(self, login: str) -> list[User]:
        """Users whose ``uid`` values include ``login`` exactly (case-sensitive, as posixGroup matches)."""
        return [user for user in self.users.values() if login in user.values("uid")]

    def direct_members(self, group_id: str, by_uid: dict[str, list[str]] | None = None) -> DirectMembers:
        """A group's direct members; ``by_uid`` (``uid_index()``) saves rebuilding it per posixGroup."""
        group = self.groups[group_id]
        if group.kind == "posixgroup":
            by_uid = by_uid if by_uid is not None else self.uid_index()
            users: list[str] = []
            unresolved: list[str] = []
            for value in group.values("memberUid"):
                found = by_uid.get(str(value), [])
                users.extend(uid for uid in found if uid not in users)
                if not found:
                    unresolved.append(str(value))
            return DirectMembers(tuple(users), (), tuple(unresolved))
        return DirectMembers(
            tuple(m for m in group.members if m in self.users),
            tuple(m for m in group.members if m in self.groups),
            tuple(group.unresolved_by_dn.values()),
        )

    def transitive_user_ids(self, group_id: str) -> set[str]:
        """Users reached through nested groups, cycles included (each group visited once)."""
        users: set[str] = set()
        seen = {group_id}
        stack = [group_id]
        by_uid = self.uid_index()
        while stack:
            members = self.direct_members(stack.pop(), by_uid)
            users.update(members.user_ids)
            for nested in members.group_ids:
                if nested not in seen:
                    seen.add(nested)
                    stack.append(nested)
        return users

    def to_ldif(self) -> str:
        """The directory as LDIF content records: containers (parents first), users, groups."""
        containers = sorted(self.containers.items(), key=lambda item: len(split_dn(item[0])))
        blocks = []
        for entry in [e for _, e in containers] + [*self.users.values(), *self.groups.values()]:
            lines = [_ldif_line("dn", entry.dn)]
            if entry.id:
                lines.append(_ldif_line("entryUUID", entry.id))
            for attribute, values in entry.attributes.items():
                lines.extend(_ldif_line(attribute, value) for value in values)
            if isinstance(entry, Group) and entry.kind != "posixgroup":
                attribute = MEMBER_ATTRIBUTES[entry.kind]
                lines.extend(_ldif_line(attribute, value) for value in self._member_values(entry))
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"

    # -- internals ------------------------------------------------------------------------------

    def _new_id(self, key: str, attributes: dict[str, list[Value]]) -> str:
        given = attributes.pop("entryuuid", None)  # the id, not an attribute
        if given:
            return str(given[0]).lower()
        uses = self._uses.get(key, 0)
        self._uses[key] = uses + 1
        return str(uuid.uuid5(uuid.NAMESPACE_X500, key if not uses else f"{key}#{uses}"))

    def _set_dn_members(self, group: Group) -> None:
        """Resolve the group's DN-valued member attribute into member_ids and unresolved; drop it."""
        attribute = MEMBER_ATTRIBUTES[group.kind]
        if group.kind == "posixgroup":
            return
        for gone in group.unresolved_by_dn:
            self._pending.get(gone, set()).discard(group.id)
        group.members, group.unresolved_by_dn = {}, {}
        for value in group.attributes.pop(attribute, []):
            self._add_dn_member(group, str(value))

    def _add_dn_member(self, group: Group, value: str) -> None:
        key = canonical_dn(value)
        target = self._by_dn.get(key)
        if target is not None and target.id:
            group.members[target.id] = None
        elif key not in group.unresolved_by_dn:
            group.unresolved_by_dn[key] = value
            self._pending.setdefault(key, set()).add(group.id)

    def _remove_dn_member(self, group: Group, value: str) -> None:
        key = canonical_dn(value)
        target = self._by_dn.get(key)
        if target is not None and target.id in group.members:
            del group.members[target.id]
        elif group.unresolved_by_dn.pop(key, None) is not None:
            self._pending[key].discard(group.id)

    def _member_values(self, group: Group) -> list[str]:
        """The group's DN-valued members as DNs (current DNs for resolved ones)."""
        known = {**self.users, **self.groups}
        return [known[m].dn for m in group.members] + list(group.unresolved_by_dn.values())

    def _member_snapshot(self, group: Group, by_uid: dict[str, list[str]]) -> tuple[str, ...]:
        members = self.direct_members(group.id, by_uid)
        return members.user_ids + members.group_ids

    def _index(self, key: str, entry: Entry) -> None:
        self._by_dn[key] = entry
        parent = parent_of(key)
        self._children[parent] = self._children.get(parent, 0) + 1

    def _unindex(self, key: str) -> None:
        del self._by_dn[key]
        self._children[parent_of(key)] -= 1

    def uid_index(self) -> dict[str, list[str]]:
        """uid value -> ids of the users with it (how posixGroup memberUid values resolve)."""
        index: dict[str, list[str]] = {}
        for user in self.users.values():
            for value in user.values("uid"):
                index.setdefault(str(value), []).append(user.id)
        return index

    def _apply(self, record: Record, where: str) -> tuple[Entry | None, dict[str, list[Value]] | None]:
        at = f"{where}:{record.line}"
        if record.changetype == "add":
            attributes: dict[str, list[Value]] = {}
            for attribute, value in record.lines:
                attributes.setdefault(attribute.lower(), []).append(value)
            try:
                return self.add_entry(record.dn, attributes), None
            except LdifError as error:
                raise LdifError(f"{at}: {error}; delete it first or change the DN") from None
        entry = self.entry(record.dn)
        if entry is None:
            raise LdifError(f"{at}: no entry {record.dn!r} to {record.changetype}; add it first")
        old = copy.deepcopy(entry.attributes)
        if record.changetype == "delete":
            self._delete(entry)
        elif record.changetype == "modify":
            self._modify(entry, record, at)
        else:
            self._rename(entry, record, at)
        return entry, old

    def _delete(self, entry: Entry) -> None:
        key = canonical_dn(entry.dn)
        if self._children.get(key):
            raise LdifError(f"entry {entry.dn!r} has entries below it; delete those first")
        self._unindex(key)
        if not entry.id:
            del self.containers[key]
            return
        self.users.pop(entry.id, None)
        if isinstance(entry, Group):
            del self.groups[entry.id]
            for gone in entry.unresolved_by_dn:
                self._pending[gone].discard(entry.id)
        for group in self.groups.values():  # refint
            group.members.pop(entry.id, None)

    def _modify(self, entry: Entry, record: Record, at: str) -> None:
        for operation, attribute, values in record.modifications:
            name = attribute.lower()
            if name in ("member", "uniquemember") and isinstance(entry, Group) and entry.kind != "posixgroup":
                if MEMBER_ATTRIBUTES[entry.kind] != name:
                    raise LdifError(f"{at}: a {entry.kind} group has no {attribute}")
                if operation == "replace":
                    entry.attributes[name] = list(values)
                    self._set_dn_members(entry)
                    continue
                for value in values if values else self._member_values(entry):
                    if operation == "add":
                        self._add_dn_member(entry, str(value))
                    else:
                        self._remove_dn_member(entry, str(value))
                continue
            current = entry.attributes.get(name, [])
            if operation == "add":
                entry.attributes[name] = current + [v for v in values if v not in current]
            elif operation == "replace" or not values:
                entry.attributes[name] = list(values)
            else:
                entry.attributes[name] = [v for v in current if v not in values]
            if not entry.attributes[name]:
                del entry.attributes[name]

    def _rename(self, entry: Entry, record: Record, at: str) -> None:
        new_rdn = record.new_rdn
        if new_rdn is None or "=" not in new_rdn:
            raise LdifError(f"{at}: a modrdn record needs 'newrdn: attribute=value'")
        old_key = canonical_dn(entry.dn)
        superior = record.new_superior if record.new_superior is not None else _parent_as_written(entry.dn)
        new_dn = f"{new_rdn},{superior}" if superior else new_rdn
        new_key = canonical_dn(new_dn)
        if new_key in self._by_dn and new_key != old_key:
            raise LdifError(f"{at}: entry {new_dn!r} already exists")
        if self._children.get(old_key):
            raise LdifError(f"{at}: renaming an entry with entries below it is not supported")
        old_attribute, old_value = first_rdn(entry.dn)
        attribute, value = first_rdn(new_dn)
        if record.delete_old_rdn:
            kept = [v for v in entry.values(old_attribute) if str(v) != old_value]
            entry.attributes[old_attribute.lower()] = kept
            if not kept:
                del entry.attributes[old_attribute.lower()]
        current = entry.attributes.setdefault(attribute.lower(), [])
        if value not in current:
            current.append(value)
        self._unindex(old_key)
        if not entry.id:
            self.containers[new_key] = self.containers.pop(old_key)
        entry.dn = new_dn
        self._index(new_key, entry)

    def _changes(
        self,
        touched: list[tuple[Record, Entry | None, dict[str, list[Value]] | None]],
        before: dict[str, tuple[str, ...]],
    ) -> list[Change]:
        changes: list[Change] = []
        reported: set[str] = set()
        by_uid = self.uid_index()
        for record, entry, old in touched:
            if entry is None:
                continue
            kind = "user" if isinstance(entry, User) else "group" if isinstance(entry, Group) else "container"
            names: tuple[str, ...] = ()
            if old is not None and record.changetype in ("modify", "modrdn"):
                names = tuple(
                    sorted(
                        n for n in set(old) | set(entry.attributes) if old.get(n) != entry.attributes.get(n)
                    )
                )
            added: tuple[str, ...] = ()
            removed: tuple[str, ...] = ()
            if kind == "group" and entry.id in self.groups:
                now = self._member_snapshot(self.groups[entry.id], by_uid)
                was = before.get(entry.id, ())
                added, removed = _difference(now, was)
                reported.add(entry.id)
                if added or removed:
                    names = tuple(sorted({*names, MEMBER_ATTRIBUTES[entry.kind]}))
            changes.append(Change(record.changetype, kind, entry.id or None, entry.dn, names, added, removed))
        for group_id, group in self.groups.items():  # refint, and memberUid resolution
            if group_id in reported or group_id not in before:
                continue
            now = self._member_snapshot(group, by_uid)
            was = before[group_id]
            if now != was:
                changes.append(
                    Change(
                        "modify",
                        "group",
                        group_id,
                        group.dn,
                        (MEMBER_ATTRIBUTES[group.kind],),
                        *_difference(now, was),
                    )
                )
        return changes


def _difference(now: tuple[str, ...], was: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(members added, members removed), each in its list's order; sets, as groups can be huge."""
    now_set, was_set = set(now), set(was)
    return tuple(m for m in now if m not in was_set), tuple(m for m in was if m not in now_set)


# -- LDIF ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Record:
    dn: str
    line: int
    changetype: str = "add"  # add, delete, modify, modrdn (moddn is read as modrdn)
    explicit: bool = False  # the record said changetype
    lines: list[tuple[str, Value]] = dataclasses.field(default_factory=list)
    modifications: list[tuple[str, str, list[Value]]] = dataclasses.field(default_factory=list)
    new_rdn: str | None = None
    delete_old_rdn: bool = False
    new_superior: str | None = None


def parse_ldif(text: str, where: str = "<ldif>") -> Iterator[Record]:
    """The records of an LDIF text (RFC 2849), content and change records."""
    for block in _blocks(text, where):
        number, name, value = block[0]
        if name.lower() != "dn":
            raise LdifError(f"{where}:{number}: a record must start with 'dn:'; found {name!r}")
        record = Record(dn=str(value), line=number)
        rest = block[1:]
        if rest and rest[0][1].lower() == "changetype":
            record.changetype = str(rest[0][2]).lower().replace("moddn", "modrdn")
            record.explicit = True
            rest = rest[1:]
        if record.changetype == "add":
            record.lines = [(n, v) for _, n, v in rest]
        elif record.changetype == "delete":
            if rest:
                raise LdifError(f"{where}:{rest[0][0]}: a delete record has no attributes")
        elif record.changetype == "modify":
            record.modifications = _modifications(rest, where)
        elif record.changetype == "modrdn":
            for line, attribute, value in rest:
                key = attribute.lower()
                if key == "newrdn":
                    record.new_rdn = str(value)
                elif key == "deleteoldrdn":
                    record.delete_old_rdn = str(value) == "1"
                elif key == "newsuperior":
                    record.new_superior = str(value)
                else:
                    raise LdifError(
                        f"{where}:{line}: a modrdn record takes newrdn, deleteoldrdn, newsuperior"
                    )
        else:
            raise LdifError(
                f"{where}:{number + 1}: unknown changetype {record.changetype!r}; use add, delete, "
                "modify or modrdn"
            )
        yield record


def _modifications(lines: list[tuple[int, str, Value]], where: str) -> list[tuple[str, str, list[Value]]]:
    result: list[tuple[str, str, list[Value]]] = []
    current: tuple[str, str, list[Value]] | None = None
    for line, name, value in lines:
        if name == "-":
            current = None
        elif current is None:
            operation = name.lower()
            if operation not in ("add", "delete", "replace"):
                raise LdifError(f"{where}:{line}: expected 'add:', 'delete:' or 'replace:', found {name!r}")
            current = (operation, str(value), [])
            result.append(current)
        elif name.lower() != current[1].lower():
            raise LdifError(
                f"{where}:{line}: {name!r} inside '{current[0]}: {current[1]}'; end the change with '-'"
            )
        else:
            current[2].append(value)
    return result


def _blocks(text: str, where: str) -> Iterator[list[tuple[int, str, Value]]]:
    """Records as (line number, attribute, value) lists, folded lines joined, comments dropped."""
    block: list[tuple[int, str, Value]] = []
    logical: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith(" ") and logical:
            logical[-1] = (logical[-1][0], logical[-1][1] + raw[1:])
        elif raw.startswith("#") and raw.strip():
            continue
        else:
            logical.append((number, raw))
    for number, line in logical:
        if not line.strip():
            if block:
                yield block
            block = []
        elif line == "-":
            block.append((number, "-", ""))
        elif not block and line.startswith("version:"):
            continue
        else:
            block.append((number, *_attribute_value(line, f"{where}:{number}")))
    if block:
        yield block


def _attribute_value(line: str, where: str) -> tuple[str, Value]:
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
            return name, raw
    if rest.startswith("<"):
        raise LdifError(f"{where}: values read from a URL ({name}:<) are not supported; inline it")
    return name, rest.strip()


def _ldif_line(attribute: str, value: Value) -> str:
    text = value if isinstance(value, str) else None
    safe = text is not None and text.isascii() and not text.startswith((" ", ":", "<")) and "\n" not in text
    if safe and not text.endswith(" "):
        return f"{attribute}: {text}"
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return f"{attribute}:: {base64.b64encode(raw).decode('ascii')}"


def _text_and_name(source: str | Path, name: str | None) -> tuple[str, str]:
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8"), name or str(source)
    return source, name or "<ldif>"


# -- DNs ----------------------------------------------------------------------------------------


def split_dn(dn: str) -> list[str]:
    """The RDNs of a DN as written, split at unescaped commas."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ",":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def first_rdn(dn: str) -> tuple[str, str]:
    """(attribute, unescaped value) of the first RDN (multi-valued RDNs: the whole value part)."""
    attribute, _, value = split_dn(dn)[0].partition("=")
    return attribute.strip(), _unescape(value.strip())


def parent_of(key: str) -> str:
    """The parent of a canonical DN ('' at the top)."""
    parts = split_dn(key)
    return ",".join(parts[1:])


def _parent_as_written(dn: str) -> str:
    return ",".join(split_dn(dn)[1:])


def _unescape(value: str) -> str:
    out = bytearray()
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            pair = value[index + 1 : index + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                index += 3
                continue
            out.extend(value[index + 1].encode("utf-8"))
            index += 2
            continue
        out.extend(char.encode("utf-8"))
        index += 1
    return out.decode("utf-8", errors="replace")
