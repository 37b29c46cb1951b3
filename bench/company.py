"""A seeded company directory of any size: people, service accounts and nested groups.

The shape follows real directories: every person is a direct member of one
team; teams nest in departments, departments in divisions, divisions in
``all-staff`` (four levels). Project, application and role groups take the
rest of the memberships with Zipf-skewed sizes, so a few have tens of
thousands of members and most have a handful; some of them nest a team.
A share of accounts is locked (disabled). Nothing here does I/O.
"""

from __future__ import annotations

import argparse
import math
import unicodedata
import uuid
from dataclasses import dataclass

import numpy as np

from bench import names

LOCKED_SHARE = 0.03
CONTRACTOR_SHARE = 0.12
NESTED_TEAM_SHARE = 0.05  # of project groups, that have one team as a nested member
MIXED_CASE_EMAIL_SHARE = 0.2
SERVICE_ACCOUNTS_PER_USER = 0.002
# Letters NFKD does not reduce to ASCII.
_TRANSLITERATION = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "ı": "i", "đ": "d"})


@dataclass(frozen=True)
class CompanySize:
    users: int
    groups: int
    memberships: int  # effective (nested groups flattened); the generator lands near it


def add_size_arguments(
    parser: argparse.ArgumentParser, users: int = 100_000, groups: int = 5_000, memberships: int = 1_000_000
) -> None:
    """``--users``, ``--groups`` and ``--memberships`` of a benchmark's command line."""
    parser.add_argument("--users", type=int, default=users, help=f"people in the company (default {users:,})")
    parser.add_argument("--groups", type=int, default=groups, help=f"groups (default {groups:,})")
    parser.add_argument(
        "--memberships",
        type=int,
        default=memberships,
        help=f"about this many effective memberships, nesting flattened (default {memberships:,})",
    )


@dataclass(frozen=True)
class Person:
    uuid: str
    uid: str
    given_name: str
    surname: str
    mail: str
    title: str
    department: str
    employee_number: str
    employee_type: str
    phone: str
    locked: bool

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname}"


@dataclass(frozen=True)
class Group:
    kind: str  # "all-staff", "division", "department", "team" or "project"
    uuid: str
    cn: str
    description: str
    users: tuple[int, ...]  # indexes into Company.people
    groups: tuple[int, ...]  # indexes into Company.groups (nested groups)


@dataclass(frozen=True)
class Company:
    suffix: str
    people: tuple[Person, ...]  # under ou=people: in the bench rules' scope
    services: tuple[Person, ...]  # under ou=services: out of scope, in no group
    groups: tuple[Group, ...]

    def person_dn(self, person: Person) -> str:
        return f"uid={person.uid},ou=people,{self.suffix}"

    def service_dn(self, person: Person) -> str:
        return f"uid={person.uid},ou=services,{self.suffix}"

    def group_dn(self, group: Group) -> str:
        return f"cn={group.cn},ou=groups,{self.suffix}"


@dataclass(frozen=True)
class _Layout:
    """How many groups of each level a size gets."""

    divisions: int
    departments: int
    teams: int
    projects: int

    @classmethod
    def of(cls, size: CompanySize) -> _Layout:
        divisions = min(len(names.DIVISIONS), max(2, round(math.sqrt(size.groups) / 6)))
        departments = max(divisions, round(size.groups * 0.04))
        teams = max(departments, round(size.groups * 0.25))
        projects = size.groups - 1 - divisions - departments - teams
        if projects < 1 or size.users < teams:
            raise ValueError(
                f"{size.groups} groups for {size.users} users leave no room for the layout "
                f"({divisions} divisions, {departments} departments, {teams} teams, all-staff and "
                "at least one project group, one person per team): ask for more users or groups"
            )
        return cls(divisions, departments, teams, projects)


def make_people(seed: int, count: int) -> list[Person]:
    """``count`` people; the first n of a larger count are the same n people (leavers extend a company)."""
    taken: set[str] = set()
    # One stream per field: the first n draws of a stream do not depend on how many follow.
    streams = [np.random.default_rng([seed, 1, field]) for field in range(9)]
    given = streams[0].integers(len(names.GIVEN_NAMES), size=count)
    sur = streams[1].integers(len(names.SURNAMES), size=count)
    titles = streams[2].integers(len(names.TITLES), size=count)
    departments = streams[3].integers(len(names.DEPARTMENT_WORDS), size=count)
    locked = streams[4].random(count) < LOCKED_SHARE
    contractor = streams[5].random(count) < CONTRACTOR_SHARE
    mixed_case = streams[6].random(count) < MIXED_CASE_EMAIL_SHARE
    phones = streams[7].integers(1_000_000, 9_999_999, size=count)
    uuids = streams[8].bytes(16 * count)
    people = []
    for i in range(count):
        given_name, surname = names.GIVEN_NAMES[given[i]], names.SURNAMES[sur[i]]
        uid = _unique(f"{_ascii(given_name)}.{_ascii(surname)}", taken)
        local = uid if not mixed_case[i] else ".".join(part.capitalize() for part in uid.split("."))
        people.append(
            Person(
                uuid=str(uuid.UUID(bytes=uuids[16 * i : 16 * i + 16], version=4)),
                uid=uid,
                given_name=given_name,
                surname=surname,
                mail=f"{local}@example.com",
                title=names.TITLES[titles[i]],
                department=names.DEPARTMENT_WORDS[departments[i]],
                employee_number=f"E{seed % 100:02d}{i:07d}",
                employee_type="contractor" if contractor[i] else "employee",
                phone=f"+1 555 {phones[i]:07d}",
                locked=bool(locked[i]),
            )
        )
    return people


def generate_company(size: CompanySize, seed: int, suffix: str) -> Company:
    """The company for ``size`` and ``seed``: the same arguments give the same company, byte for byte."""
    layout = _Layout.of(size)
    people = make_people(seed, size.users)
    services = _service_accounts(seed, max(2, round(size.users * SERVICE_ACCOUNTS_PER_USER)))
    rng = np.random.default_rng([seed, 2])
    team_of = _team_of_each_person(rng, size.users, layout.teams)
    groups = _hierarchy(rng, layout, team_of)
    budget = max(layout.projects, size.memberships - 4 * size.users)
    groups += _projects(rng, layout, size.users, budget, first_team=1 + layout.divisions + layout.departments)
    return Company(suffix=suffix, people=tuple(people), services=services, groups=tuple(groups))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


def _service_accounts(seed: int, count: int) -> tuple[Person, ...]:
    rng = np.random.default_rng([seed, 3])
    uuids = rng.bytes(16 * count)
    return tuple(
        Person(
            uuid=str(uuid.UUID(bytes=uuids[16 * i : 16 * i + 16], version=4)),
            uid=f"svc-{names.PROJECT_WORDS[i % len(names.PROJECT_WORDS)]}-{i}",
            given_name="Service",
            surname=f"Account {i}",
            mail=f"svc-{i}@example.com",
            title="Service account",
            department="infra",
            employee_number=f"S{i:07d}",
            employee_type="service",
            phone="+1 555 0000000",
            locked=False,
        )
        for i in range(count)
    )


def _team_of_each_person(rng: np.random.Generator, users: int, teams: int) -> np.ndarray:
    """Team index per person: every team gets one person, the rest go to teams of lognormal sizes."""
    weights = rng.lognormal(0.0, 0.6, teams)
    rest = rng.choice(teams, size=users - teams, p=weights / weights.sum())
    return np.concatenate([np.arange(teams), rest])


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _hierarchy(rng: np.random.Generator, layout: _Layout, team_of: np.ndarray) -> list[Group]:
    """all-staff, then divisions, departments and teams; group indexes follow that order."""
    first_division, first_department = 1, 1 + layout.divisions
    first_team = first_department + layout.departments
    groups = [
        Group(
            "all-staff",
            _uuid(rng),
            "all-staff",
            "Everyone on the payroll",
            (),
            tuple(range(first_division, first_department)),
        )
    ]
    for d in range(layout.divisions):
        departments = range(first_department + d, first_team, layout.divisions)
        groups.append(
            Group(
                "division",
                _uuid(rng),
                names.DIVISIONS[d],
                f"Division {names.DIVISIONS[d]}",
                (),
                tuple(departments),
            )
        )
    for p in range(layout.departments):
        division = names.DIVISIONS[p % layout.divisions]
        word = names.DEPARTMENT_WORDS[p % len(names.DEPARTMENT_WORDS)]
        teams = range(first_team + p, first_team + layout.teams, layout.departments)
        groups.append(
            Group(
                "department",
                _uuid(rng),
                f"{division.lower()}-{word}-{p}",
                f"Department {p}",
                (),
                tuple(teams),
            )
        )
    members_of_team = np.argsort(team_of, kind="stable")
    bounds = np.searchsorted(team_of[members_of_team], np.arange(layout.teams + 1))
    for t in range(layout.teams):
        members = tuple(int(i) for i in members_of_team[bounds[t] : bounds[t + 1]])
        groups.append(Group("team", _uuid(rng), f"team-{t}", f"Team {t}", members, ()))
    return groups


def _projects(
    rng: np.random.Generator, layout: _Layout, users: int, budget: int, first_team: int
) -> list[Group]:
    """Project, application and role groups with Zipf sizes summing to about ``budget``."""
    weights = 1.0 / np.arange(1, layout.projects + 1)
    sizes = np.clip(np.rint(budget * weights / weights.sum()), 1, int(users * 0.8)).astype(int)
    rng.shuffle(sizes)  # the big groups land anywhere in the name order
    nests_team = rng.random(layout.projects) < NESTED_TEAM_SHARE
    groups = []
    for i, size in enumerate(sizes):
        prefix = names.PROJECT_PREFIXES[i % len(names.PROJECT_PREFIXES)]
        word = names.PROJECT_WORDS[(i // len(names.PROJECT_PREFIXES)) % len(names.PROJECT_WORDS)]
        members = tuple(sorted(int(u) for u in rng.choice(users, size=int(size), replace=False)))
        nested = (first_team + int(rng.integers(layout.teams)),) if nests_team[i] else ()
        groups.append(
            Group("project", _uuid(rng), f"{prefix}-{word}-{i}", f"{prefix} {word}", members, nested)
        )
    return groups
