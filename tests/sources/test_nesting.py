"""Flattening nested groups: exact rows, cycles reported, and agreement with a plain closure."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from confluence_provisioning.sources.nesting import Flattened, cycles, flatten, flatten_numbered


def rows(flat: Flattened) -> list[tuple[int, str, bool]]:
    return list(zip(flat.groups, flat.users, flat.direct, strict=True))


def test_direct_users_first_in_order_then_inherited_sorted() -> None:
    # 0 contains 1, 1 contains 2; u3 is direct in 0 and also inherited from 2.
    flat = flatten([["u3", "u1"], ["u2"], ["u5", "u3", "u4"]], [[1], [2], []])
    assert rows(flat) == [
        (0, "u3", True),
        (0, "u1", True),
        (0, "u2", False),
        (0, "u4", False),
        (0, "u5", False),
        (1, "u2", True),
        (1, "u3", False),
        (1, "u4", False),
        (1, "u5", False),
        (2, "u5", True),
        (2, "u3", True),
        (2, "u4", True),
    ]
    assert flat.cycles == []


def test_a_cycle_shares_its_members_and_is_reported_once() -> None:
    # 0 -> 1 -> 2 -> 0 is a cycle; 3 contains 0; 2 also contains itself.
    flat = flatten([["a"], ["b"], ["c"], []], [[1], [2], [0, 2], [0]])
    assert rows(flat) == [
        (0, "a", True),
        (0, "b", False),
        (0, "c", False),
        (1, "b", True),
        (1, "a", False),
        (1, "c", False),
        (2, "c", True),
        (2, "a", False),
        (2, "b", False),
        (3, "a", False),
        (3, "b", False),
        (3, "c", False),
    ]
    assert flat.cycles == [[0, 1, 2]]


def test_a_group_containing_itself_is_a_cycle() -> None:
    flat = flatten([["a"]], [[0]])
    assert (rows(flat), flat.cycles) == ([(0, "a", True)], [[0]])


def test_a_deep_chain_does_not_recurse() -> None:
    depth = 5000  # deeper than Python's recursion limit; one user at the bottom
    flat = flatten([[] for _ in range(depth - 1)] + [["u"]], [[n + 1] for n in range(depth - 1)] + [[]])
    assert rows(flat) == [(group, "u", group == depth - 1) for group in range(depth)]
    assert flat.cycles == []


@st.composite
def nested_groups(draw: st.DrawFn) -> tuple[list[list[str]], list[list[int]]]:
    count = draw(st.integers(1, 8))
    users = [sorted(set(draw(st.lists(st.sampled_from("abcdef"), max_size=4)))) for _ in range(count)]
    children = [draw(st.lists(st.integers(0, count - 1), max_size=3)) for _ in range(count)]
    return users, children


@given(nested_groups())
def test_flattening_agrees_with_a_plain_transitive_closure(
    groups: tuple[list[list[str]], list[list[int]]],
) -> None:
    users, children = groups
    flat = flatten(users, children)
    for group in range(len(users)):
        reached, stack, everyone = {group}, [group], set(users[group])
        while stack:
            for child in children[stack.pop()]:
                if child not in reached:
                    reached.add(child)
                    stack.append(child)
                    everyone.update(users[child])
        mine = [(user, direct) for g, user, direct in rows(flat) if g == group]
        assert sorted(mine) == sorted((user, user in users[group]) for user in everyone)
    in_cycles = {group for cycle in flat.cycles for group in cycle}
    for group in range(len(users)):
        # a group is in a reported cycle exactly when it can reach itself
        reached, stack = set(), list(children[group])
        while stack:
            node = stack.pop()
            if node not in reached:
                reached.add(node)
                stack.extend(children[node])
        assert (group in reached) == (group in in_cycles)


@settings(max_examples=40, deadline=None)  # the suite's time: numpy calls cost more than the rows
@given(nested_groups(), st.sets(st.integers(0, 7)))
def test_numbered_flattening_gives_flattens_rows_for_the_groups_asked(
    groups: tuple[list[list[str]], list[list[int]]], wanted: set[int]
) -> None:
    users, children = groups
    numbered = [["abcdef".index(user) for user in own] for own in users]
    flat = flatten(numbered, children)
    wanted = {group for group in wanted if group < len(users)}
    edges = [(group, user) for group, own in enumerate(numbered) for user in own]
    found = flatten_numbered(
        np.array([g for g, _ in edges], np.int32), np.array([u for _, u in edges], np.int32), children, wanted
    )
    assert list(zip(found.groups.tolist(), found.users.tolist(), found.direct.tolist(), strict=True)) == [
        row for row in rows(flat) if row[0] in wanted
    ]
    assert cycles(children) == flat.cycles
