"""Flattening nested groups: every user of a subgroup is a member of each group above it. Pure.

Groups are numbered 0..n-1. The groups that contain each other (a nesting
cycle) form one strongly connected component; Tarjan's algorithm finds the
components children-first, so each component's users are its own direct users
plus the users of the components below it, computed once. The work is
proportional to the groups, the nesting edges and the memberships produced;
a cycle costs nothing extra and is reported, never followed forever.

``flatten_numbered`` does the same for users and groups given as numbers in NumPy arrays, for
only the groups asked for (an incremental read recomputes the groups a change reaches): each
group's users are those of every group it reaches through nesting, found with array operations,
so a million memberships cost array passes (tens of milliseconds), not Python loops. Each group
asked for walks the groups below it: cheap for directories' shallow nesting, quadratic for a
chain thousands deep (``flatten`` stays linear there).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

# A user: its id, or any number that sorts the way the ids do.
U = TypeVar("U", str, int)


@dataclass
class Flattened(Generic[U]):
    """Membership rows as columns (group index, user id, direct) and the cycles found."""

    groups: list[int] = field(default_factory=list)
    users: list[U] = field(default_factory=list)
    direct: list[bool] = field(default_factory=list)
    cycles: list[list[int]] = field(default_factory=list)  # each: the groups of one cycle, ascending


def flatten(direct_users: Sequence[Sequence[U]], subgroups: Sequence[Sequence[int]]) -> Flattened[U]:
    """Memberships of every group: its direct users (in order), then inherited ones (sorted).

    ``direct_users[g]`` are group g's own users without repeats; ``subgroups[g]`` the
    groups that are members of g.
    """
    components = _components_children_first(subgroups)
    component_of = [0] * len(subgroups)
    for number, component in enumerate(components):
        for group in component:
            component_of[group] = number

    # Most groups have no subgroups and are nobody's subgroup: they inherit nothing and pass
    # nothing on, so their users need no set (a set per group costs as much as the rows).
    is_subgroup = [False] * len(subgroups)
    for children in subgroups:
        for child in children:
            is_subgroup[child] = True
    reachable: list[set[U]] = []
    result: Flattened[U] = Flattened()
    for number, component in enumerate(components):
        users: set[U] = set()
        if len(component) == 1 and not subgroups[component[0]] and not is_subgroup[component[0]]:
            reachable.append(users)
            continue
        for group in component:
            users.update(direct_users[group])
            for child in subgroups[group]:
                if component_of[child] != number:
                    users |= reachable[component_of[child]]
        reachable.append(users)
        if _is_cycle(component, subgroups):
            result.cycles.append(sorted(component))

    for group, own in enumerate(direct_users):
        inherited = sorted(reachable[component_of[group]].difference(own)) if subgroups[group] else []
        result.groups.extend([group] * (len(own) + len(inherited)))
        result.users.extend(own)
        result.users.extend(inherited)
        result.direct.extend([True] * len(own))
        result.direct.extend([False] * len(inherited))
    return result


def cycles(subgroups: Sequence[Sequence[int]]) -> list[list[int]]:
    """The groups that contain each other, one ascending list per cycle, in ``flatten``'s order."""
    # only groups with subgroups can be in a cycle: the walk skips the rest (most groups)
    nesting = [g for g, children in enumerate(subgroups) if children]
    local = {g: n for n, g in enumerate(nesting)}
    inner = [[local[c] for c in subgroups[g] if c in local] for g in nesting]
    found = [[nesting[n] for n in c] for c in _components_children_first(inner) if _is_cycle(c, inner)]
    return [sorted(c) for c in found]


def _is_cycle(component: list[int], subgroups: Sequence[Sequence[int]]) -> bool:
    return len(component) > 1 or component[0] in subgroups[component[0]]


@dataclass
class NumberedRows:
    """Membership rows by number, sorted by group, then direct before inherited, then user."""

    groups: np.ndarray  # int32
    users: np.ndarray  # int32
    direct: np.ndarray  # bool

    def keys(self) -> np.ndarray:
        """Each row as one int64 that sorts as the rows do: group, then inherited, then user."""
        keys = self.groups.astype(np.int64)  # in place from here: a million rows, few temporaries
        keys <<= _USER_BITS + 1
        keys |= self.users
        keys[~self.direct] |= 1 << _USER_BITS
        return keys

    @staticmethod
    def of_keys(keys: np.ndarray) -> NumberedRows:
        # an int64's halves as int32 (little-endian: low first): the low half's sign is "inherited"
        halves = np.ascontiguousarray(keys, "<i8").view(np.int32)
        low = halves[0::2]
        return NumberedRows(groups=halves[1::2].copy(), users=low & ((1 << _USER_BITS) - 1), direct=low >= 0)

    def merged(self, *others: NumberedRows) -> NumberedRows:
        """These rows and the others' in order (no row twice): theirs inserted where they belong."""
        if not len(self.groups) and len(others) == 1:
            return others[0]
        keys = self.keys()
        added = np.sort(np.concatenate([other.keys() for other in others]))
        return NumberedRows.of_keys(np.insert(keys, np.searchsorted(keys, added), added))


_USER_BITS = 31  # users are numbered below 2**31; a row sorts as one int64 (group, inherited, user)


def flatten_numbered(
    edge_groups: np.ndarray,
    edge_users: np.ndarray,
    subgroups: Sequence[Sequence[int]],
    wanted: Collection[int],
) -> NumberedRows:
    """The memberships of the ``wanted`` groups: own users, then those inherited through nesting.

    ``edge_groups[i]`` has user ``edge_users[i]`` as a direct member (each pair once);
    ``subgroups[g]`` are the groups that are members of g. A group's inherited users are the
    users of every group it reaches, less its own: in a cycle every group reaches every other,
    which is the component rule of ``flatten``.
    """
    pair_groups: list[int] = []
    pair_reached: list[int] = []
    for group in sorted(wanted):
        reached = _reached(group, subgroups)
        pair_groups.extend([group] * len(reached))
        pair_reached.extend(reached)
    above, below = np.array(pair_groups, np.int64), np.array(pair_reached, np.int64)
    # the edges of the groups reached, by group: each pair's users are one slice
    needed = np.zeros(len(subgroups), bool)
    needed[below] = True
    rows = np.flatnonzero(needed[edge_groups])
    rows = rows[np.argsort(edge_groups[rows], kind="stable")]
    sorted_groups, sorted_users = edge_groups[rows], edge_users[rows].astype(np.int64)
    numbers = np.arange(len(subgroups))
    starts = np.searchsorted(sorted_groups, numbers, side="left")
    lengths = np.searchsorted(sorted_groups, numbers, side="right")[below] - starts[below]
    first = np.repeat(starts[below] - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
    keys = (np.repeat(above, lengths) << (_USER_BITS + 1)) | sorted_users[first]
    own = np.repeat(above == below, lengths)
    inherited = np.sort(keys[~own] | (1 << _USER_BITS))
    inherited = (
        inherited[np.concatenate([[True], inherited[1:] != inherited[:-1]])] if len(inherited) else inherited
    )
    # a user the group has itself is not inherited too (only groups with subgroups inherit)
    parents = np.zeros(len(subgroups), bool)
    parents[above[above != below]] = True
    own_keys = keys[own]
    parents_own = own_keys[parents[own_keys >> (_USER_BITS + 1)]] | (1 << _USER_BITS)
    inherited = inherited[~contains(np.sort(parents_own), inherited)]
    return NumberedRows.of_keys(np.sort(np.concatenate([own_keys, inherited])))


def contains(sorted_set: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``sorted_set`` (ascending): a binary search each, no sort of ``values``."""
    if not len(sorted_set):
        return np.zeros(len(values), bool)
    found = np.searchsorted(sorted_set, values).clip(max=len(sorted_set) - 1)
    return sorted_set[found] == values


def _reached(group: int, subgroups: Sequence[Sequence[int]]) -> list[int]:
    """The group itself first, then every group below it (each once, cycles included)."""
    seen = {group}
    found = [group]
    for below in found:  # grows while it is walked: a breadth-first walk
        for child in subgroups[below]:
            if child not in seen:
                seen.add(child)
                found.append(child)
    return found


def _components_children_first(subgroups: Sequence[Sequence[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components, each after every component it reaches (iterative)."""
    count = len(subgroups)
    order = [-1] * count  # discovery number, -1 while unvisited
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(count):
        if order[root] != -1:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]  # (group, index of the next child to visit)
        while work:
            group, next_child = work[-1]
            children = subgroups[group]
            if next_child < len(children):
                work[-1] = (group, next_child + 1)
                child = children[next_child]
                if order[child] == -1:
                    order[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, 0))
                elif on_stack[child]:
                    low[group] = min(low[group], order[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[group])
            if low[group] == order[group]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == group:
                        break
                components.append(component)
    return components
