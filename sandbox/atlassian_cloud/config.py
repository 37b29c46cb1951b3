"""Start-up options of the Atlassian Cloud emulator (the CLI flags and `CloudEmulatorServer` keywords)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.emulation.ratelimit import RateLimit

PAGE_CAP = 100  # Atlassian: at most 100 resources a page


@dataclass(frozen=True)
class CloudConfig:
    directory_id: str = "directory-1"
    token: str = "cloud-token"  # the directory's API key, sent as `Authorization: Bearer`
    verified_domains: tuple[str, ...] = ()  # empty: every domain is verified
    page_cap: int = PAGE_CAP
    rate_limit: RateLimit | None = None
    faults: Any = ()  # a fault SPEC, see sandbox.emulation.faults
    seed: int | None = None  # overrides the seed in `faults`
    state_file: Path | None = None
    save_interval: float = 2.0  # seconds between state file writes while something changed

    def __post_init__(self) -> None:
        domains = tuple(domain.strip().lower() for domain in self.verified_domains if domain.strip())
        object.__setattr__(self, "verified_domains", domains)
        if self.page_cap < 1:
            raise ValueError("page_cap must be at least 1")
        if self.state_file is not None:
            object.__setattr__(self, "state_file", Path(self.state_file))

    @property
    def api_prefix(self) -> str:
        return f"/scim/directory/{self.directory_id}"
