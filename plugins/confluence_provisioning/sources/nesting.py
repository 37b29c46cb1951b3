"""Flattening nested groups: every user of a subgroup is a member of each group above it. Pure.

Groups are numbered 0..n-1. The groups that contain each other (a nesting
cycle) form one strongly connected component; Tarjan's algorithm finds the
components children-first, so each component's users are its own direct users
plus the users of the components below it, computed once. The work is
proportional to the groups, the nesting edges and the memberships produced;
a cycle costs nothing extra and is reported, never followed forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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
        if len(component) > 1 or component[0] in subgroups[component[0]]:
            result.cycles.append(sorted(component))

    for group, own in enumerate(direct_users):
        inherited = sorted(reachable[component_of[group]].difference(own)) if subgroups[group] else []
        result.groups.extend([group] * (len(own) + len(inherited)))
        result.users.extend(own)
        result.users.extend(inherited)
        result.direct.extend([True] * len(own))
        result.direct.extend([False] * len(inherited))
    return result


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
