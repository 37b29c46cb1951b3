"""The benchmark scenarios: which company, and where Confluence starts from."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.company import CompanySize
from bench.dataset import Start


@dataclass(frozen=True)
class Scenario:
    name: str
    size: CompanySize
    start: Start

    def scaled(self, users: int) -> Scenario:
        """The same scenario for ``users`` people; groups and memberships keep their ratio to users."""
        factor = users / self.size.users
        size = CompanySize(users, round(self.size.groups * factor), round(self.size.memberships * factor))
        return replace(self, size=size)


FULL = CompanySize(100_000, 5_000, 1_000_000)
SCENARIOS: dict[str, Scenario] = {
    "initial": Scenario("initial", CompanySize(20_000, 500, 200_000), Start.fresh),
    "noop": Scenario("noop", FULL, Start.in_sync),
    "churn": Scenario("churn", FULL, Start.drifted),
}
# The Atlassian Cloud target (bench.cloud): its own emulator, no LDAP; read, noop and churn at the
# full size. In "all" it runs last.
CLOUD = Scenario("cloud", FULL, Start.in_sync)
# noop at these sizes too shows whether cost per user stays flat (the largest is noop itself)
SCALE_USERS = (25_000, 50_000)


def selected(name: str, users: int | None) -> list[Scenario]:
    """The pipeline scenarios ``--scenario name`` runs, in order; ``users`` resizes a single scenario.
    ("cloud" runs none of them: see ``cloud_size``.)"""
    if name == CLOUD.name:
        return []
    if name in SCENARIOS:
        scenario = SCENARIOS[name]
        return [scenario if users is None else scenario.scaled(users)]
    if users is not None:
        raise ValueError(f"--users resizes one scenario; {name!r} runs several sizes on purpose")
    noop = SCENARIOS["noop"]
    series = [*(noop.scaled(n) for n in SCALE_USERS), noop]
    return series if name == "scale" else [SCENARIOS["initial"], *series, SCENARIOS["churn"]]


def cloud_size(name: str, users: int | None) -> CompanySize | None:
    """The size the Cloud benchmark runs at for ``--scenario name``, or None when it does not run."""
    if name == CLOUD.name:
        return (CLOUD if users is None else CLOUD.scaled(users)).size
    return CLOUD.size if name == "all" else None


CHOICES = (*SCENARIOS, "scale", CLOUD.name, "all")
