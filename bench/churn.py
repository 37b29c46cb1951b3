"""The same company one day earlier: what last night's sync saw, for the ``churn`` scenario.

Going back a day undoes today's changes: people who joined today were not
there, people who left today still were (in their team and a few project
groups), people whose name changed had the old one, people who moved team sat
in another team, and a share of project memberships belonged to someone else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from bench import names
from bench.company import Company, Person, make_people

LEAVER_PROJECT_GROUPS = 3


@dataclass(frozen=True)
class Churn:
    """Shares of today's people (``moved`` also of project memberships)."""

    changed: float = 0.01
    left: float = 0.005
    joined: float = 0.005
    moved: float = 0.01


def previous_day(company: Company, churn: Churn, seed: int) -> Company:
    rng = np.random.default_rng([seed, 4])
    today = len(company.people)
    joined, changed, moved = _disjoint_choices(
        rng, today, [round(today * churn.joined), round(today * churn.changed), round(today * churn.moved)]
    )
    leavers = make_people(seed, today + round(today * churn.left))[today:]

    kept = np.setdiff1d(np.arange(today), joined)
    new_index = np.full(today, -1, dtype=np.int64)
    new_index[kept] = np.arange(len(kept))
    changed_set = set(changed.tolist())
    people = [_renamed(company.people[i], rng) if i in changed_set else company.people[i] for i in kept]
    leaver_index = np.arange(len(kept), len(kept) + len(leavers))

    teams = [i for i, g in enumerate(company.groups) if g.kind == "team"]
    projects = [i for i, g in enumerate(company.groups) if g.kind == "project"]
    members = [new_index[np.asarray(g.users, dtype=np.int64)] for g in company.groups]
    members = [m[m >= 0] for m in members]
    _move_team(rng, members, teams, new_index[moved])
    _swap_project_members(rng, members, projects, len(kept), churn.moved)
    for leaver in leaver_index:
        for group in (rng.choice(teams), *rng.choice(projects, size=LEAVER_PROJECT_GROUPS, replace=False)):
            members[group] = np.append(members[group], leaver)

    groups = tuple(
        dataclasses.replace(group, users=tuple(sorted(set(m.tolist()))))
        for group, m in zip(company.groups, members, strict=True)
    )
    return dataclasses.replace(company, people=(*people, *leavers), groups=groups)


def _disjoint_choices(rng: np.random.Generator, population: int, sizes: list[int]) -> list[np.ndarray]:
    picked = rng.choice(population, size=sum(sizes), replace=False)
    bounds = np.cumsum([0, *sizes])
    return [picked[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]


def _renamed(person: Person, rng: np.random.Generator) -> Person:
    """The person under a previous surname, with the email that went with it."""
    surname = names.PREVIOUS_SURNAMES[int(rng.integers(len(names.PREVIOUS_SURNAMES)))]
    local = person.mail.split("@")[0].rsplit(".", 1)[0]
    return dataclasses.replace(person, surname=surname, mail=f"{local}.{surname.lower()}@example.com")


def _move_team(
    rng: np.random.Generator, members: list[np.ndarray], teams: list[int], movers: np.ndarray
) -> None:
    """Each mover sat in another team yesterday."""
    movers_set = set(movers.tolist())
    for team in teams:
        members[team] = members[team][~np.isin(members[team], movers)]
    for mover in sorted(movers_set):
        team = teams[int(rng.integers(len(teams)))]
        members[team] = np.append(members[team], mover)


def _swap_project_members(
    rng: np.random.Generator, members: list[np.ndarray], projects: list[int], people: int, share: float
) -> None:
    """A ``share`` of project memberships belonged to someone else yesterday."""
    for group in projects:
        current = members[group]
        swapped = rng.random(len(current)) < share
        if swapped.any():
            members[group] = np.concatenate(
                [current[~swapped], rng.integers(people, size=int(swapped.sum()))]
            )
