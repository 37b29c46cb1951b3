"""The tenant's directory objects and the change log that delta queries read.

Every change set (a directory loaded, LDIF changes applied) is one step of a sequence number:
each object remembers the step that created it and, per property, the step that last changed it;
each group remembers, per member, the step that last added or removed it; removed objects leave a
tombstone with their step and Graph's removal reason. A delta token is the step it was issued at,
so a delta query is "what was touched after step S" (``touched`` keeps that list in step order).

State JSON (``dump``/``load``)::

    {"seq": 7, "epoch": 0, "secret": "...",
     "objects": [{"id", "type", "props": {...}, "created": 1, "changed": {"displayName": 5}}],
     "members": {"<group id>": ["<member id>", ...]},
     "member_log": {"<group id>": {"<member id>": 6}},
     "removed": {"<id>": {"type": "user", "seq": 7, "reason": "changed"}},
     "touched": [[1, "<id>"], ...]}
"""

from __future__ import annotations

import bisect
import dataclasses
import secrets
from typing import Any

from sandbox.entra.graph import GROUP, USER
from sandbox.entra.mapping import TenantView


@dataclasses.dataclass
class DirectoryObject:
    id: str
    type: str
    props: dict[str, Any]
    created: int
    changed: dict[str, int] = dataclasses.field(default_factory=dict)  # property -> step


@dataclasses.dataclass(frozen=True)
class Removal:
    type: str
    seq: int
    reason: str  # "changed": restorable from deleted items; "deleted": gone for good


class Tenant:
    def __init__(self) -> None:
        self.objects: dict[str, DirectoryObject] = {}
        self.members: dict[str, dict[str, None]] = {}  # group id -> member ids, in order
        self.member_log: dict[str, dict[str, int]] = {}  # group id -> member id -> step
        self.removed: dict[str, Removal] = {}
        self.touched: list[tuple[int, str]] = []  # (step, id), step order
        self.seq = 0
        self.epoch = 0  # bumped to make every delta token ask for a resync
        self.secret = secrets.token_hex(16)  # signs the state tokens
        self._sorted: dict[str, list[str]] = {}

    # -- changing ---------------------------------------------------------------------------------

    def replace(self, view: TenantView) -> dict[str, int]:
        """Make the tenant hold ``view``, logging what changed as one step; returns counts of what changed."""
        self.seq += 1
        step = self.seq
        counts = dict.fromkeys(("created", "updated", "removed", "members_added", "members_removed"), 0)
        for object_id, (kind, props) in view.objects.items():
            current = self.objects.get(object_id)
            if current is None or current.type != kind:
                if current is not None:
                    self._remove(current, step)
                self.objects[object_id] = DirectoryObject(object_id, kind, dict(props), step)
                self.removed.pop(object_id, None)
                self.touched.append((step, object_id))
                counts["created"] += 1
            elif current.props != props:
                for name in current.props.keys() | props.keys():
                    if current.props.get(name) != props.get(name):
                        current.changed[name] = step
                current.props = dict(props)
                self.touched.append((step, object_id))
                counts["updated"] += 1
        for object_id in [i for i in self.objects if i not in view.objects]:
            self._remove(self.objects[object_id], step)
            counts["removed"] += 1
        for group_id, wanted in view.members.items():
            had = self.members.get(group_id, {})
            added = wanted.keys() - had.keys()
            gone = had.keys() - wanted.keys()
            if added or gone:
                log = self.member_log.setdefault(group_id, {})
                for member_id in (*added, *gone):  # moved to the end: each log stays in step order
                    log.pop(member_id, None)
                    log[member_id] = step
                self.touched.append((step, group_id))
                counts["members_added"] += len(added)
                counts["members_removed"] += len(gone)
            self.members[group_id] = dict(wanted)
        self._sorted.clear()
        return counts

    def _remove(self, current: DirectoryObject, step: int) -> None:
        unified = "Unified" in (current.props.get("groupTypes") or ())
        # users and Microsoft 365 groups go to deleted items (restorable); security groups are gone
        reason = "changed" if current.type == USER or unified else "deleted"
        del self.objects[current.id]
        self.removed[current.id] = Removal(current.type, step, reason)
        self.members.pop(current.id, None)
        self.member_log.pop(current.id, None)
        self.touched.append((step, current.id))

    def reset_sync_state(self) -> None:
        """Every delta token issued so far gets a resync-required answer."""
        self.epoch += 1

    # -- reading ----------------------------------------------------------------------------------

    def ids(self, kind: str) -> list[str]:
        """Ids of the objects of one type, sorted (the listing order, stable under paging)."""
        found = self._sorted.get(kind)
        if found is None:
            found = sorted(i for i, o in self.objects.items() if o.type == kind)
            self._sorted[kind] = found
        return found

    def touched_since(self, step: int) -> set[str]:
        """Ids of the objects (and groups whose members) changed after ``step``."""
        start = bisect.bisect_right(self.touched, (step, "\uffff"))
        return {object_id for _, object_id in self.touched[start:]}

    def members_changed_since(self, group_id: str, step: int) -> list[tuple[str, bool]]:
        """(member id, still a member) for each member added or removed after ``step``."""
        current = self.members.get(group_id, {})
        changed: list[tuple[str, bool]] = []
        for member_id, at in reversed(self.member_log.get(group_id, {}).items()):  # newest first
            if at <= step:
                break
            changed.append((member_id, member_id in current))
        changed.reverse()
        return changed

    def transitive_members(self, group_id: str) -> list[str]:
        """Every object reached through nested groups (nested groups included), each once, cycles safe."""
        found: dict[str, None] = {}
        stack = [group_id]
        seen = {group_id}
        while stack:
            for member_id in self.members.get(stack.pop(), {}):
                if member_id in found or member_id == group_id:
                    continue
                found[member_id] = None
                member = self.objects.get(member_id)
                if member is not None and member.type == GROUP and member_id not in seen:
                    seen.add(member_id)
                    stack.append(member_id)
        return list(found)

    # -- state JSON -------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self.seq * 1000 + self.epoch

    def dump(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "epoch": self.epoch,
            "secret": self.secret,
            "objects": [dataclasses.asdict(o) for o in self.objects.values()],
            "members": {g: list(m) for g, m in self.members.items()},
            "member_log": self.member_log,
            "removed": {i: dataclasses.asdict(r) for i, r in self.removed.items()},
            "touched": [list(t) for t in self.touched],
        }

    def load(self, state: dict[str, Any]) -> None:
        """Replace everything with ``state`` (as ``dump`` writes it); ValueError when it is not that."""
        try:
            objects = {o["id"]: DirectoryObject(**o) for o in state["objects"]}
            members = {g: dict.fromkeys(m) for g, m in state["members"].items()}
            removed = {i: Removal(**r) for i, r in state["removed"].items()}
            touched = [(int(s), str(i)) for s, i in state["touched"]]
            seq, epoch, secret = int(state["seq"]), int(state["epoch"]), str(state["secret"])
            member_log = {  # in step order, as ``members_changed_since`` reads them
                g: dict(sorted(((m, int(s)) for m, s in log.items()), key=lambda entry: entry[1]))
                for g, log in state["member_log"].items()
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an Entra emulator tenant state: {exc!r}") from None
        self.objects, self.members, self.removed, self.touched = objects, members, removed, touched
        self.member_log, self.seq, self.epoch, self.secret = member_log, seq, epoch, secret
        self._sorted.clear()
