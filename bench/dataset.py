"""One generated data set on disk: the directory LDIF and the Confluence starting points.

Files are written when first asked for and reused afterwards, so the noop and
churn scenarios of one run share a directory and its LDIF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from bench.churn import Churn, previous_day
from bench.company import Company, CompanySize, generate_company
from bench.company_frames import IdpFrames, idp_frames
from bench.confluence_state import FRESH_SITE, in_sync_state
from bench.ldif import write_ldif
from confluence_provisioning.settings import Settings, load_settings

SUFFIX = "dc=corp,dc=example"  # the rules file's bases are under it
RULES = Path(__file__).resolve().with_name("rules.yaml")


class Start(StrEnum):
    """Where Confluence starts from."""

    fresh = "fresh"  # a new site: the admin account and the reserved groups
    in_sync = "in_sync"  # what last night's run left, for today's directory
    drifted = "drifted"  # what last night's run left, for yesterday's directory (see churn.py)


@dataclass(frozen=True)
class Counts:
    users: int
    groups: int
    memberships: int


class Dataset:
    def __init__(self, size: CompanySize, seed: int, folder: Path, rules: Path = RULES) -> None:
        self.size, self.seed, self.folder, self.rules = size, seed, folder, rules
        folder.mkdir(parents=True, exist_ok=True)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.rules)

    @cached_property
    def company(self) -> Company:
        return generate_company(self.size, self.seed, SUFFIX)

    @cached_property
    def idp(self) -> IdpFrames:
        return idp_frames(self.company)

    @cached_property
    def yesterday(self) -> Company:
        """The company one day earlier (``churn.previous_day``): what last night's run saw."""
        return previous_day(self.company, Churn(), self.seed)

    @cached_property
    def yesterday_idp(self) -> IdpFrames:
        return idp_frames(self.yesterday)

    @cached_property
    def ldif(self) -> Path:
        path = self.folder / "directory.ldif"
        write_ldif(self.company, path)
        return path

    @cached_property
    def yesterday_ldif(self) -> Path:
        """Yesterday's directory as an LDIF (the tenant a first run of yesterday read, --source entra)."""
        path = self.folder / "directory-yesterday.ldif"
        write_ldif(self.yesterday, path)
        return path

    def idp_of(self, start: Start) -> IdpFrames:
        """The directory a starting state was synced from: today's (in sync) or yesterday's (drifted)."""
        return self.idp if start is Start.in_sync else self.yesterday_idp

    def state(self, start: Start) -> Path | None:
        """The state file Confluence starts from (None: a fresh site, nothing to load)."""
        if start is Start.fresh:
            return None
        path = self.folder / f"confluence-{start.value.replace('_', '-')}.json"
        if not path.exists():
            state = in_sync_state(self.idp_of(start), self.settings)
            path.write_text(json.dumps(state, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        return path

    @cached_property
    def idp_counts(self) -> Counts:
        """What the directory holds: people (service accounts left out), groups, effective memberships."""
        return Counts(len(self.company.people), len(self.company.groups), len(self.idp.memberships))

    def confluence_counts(self, start: Start) -> Counts:
        """What Confluence holds in a starting state, the admin and reserved groups included."""
        path = self.state(start)
        state: dict[str, Any] = FRESH_SITE if path is None else json.loads(path.read_text(encoding="utf-8"))
        memberships = sum(len(members) for members in state["memberships"].values())
        return Counts(len(state["users"]), len(state["groups"]), memberships)
