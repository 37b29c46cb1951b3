"""Start-up options of the Okta emulator (the CLI flags and `OktaServer` keyword arguments)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.okta.ratelimit import RateLimit


@dataclass(frozen=True)
class OktaConfig:
    tokens: tuple[str, ...] = ("okta-test-token",)  # API tokens accepted as `Authorization: SSWS ...`
    page_cap: int = 200  # the most users a page of /api/v1/users holds, whatever `limit` asks
    group_page_cap: int = 10000  # /api/v1/groups (Okta's documented maximum)
    member_page_cap: int = 1000  # /api/v1/groups/{id}/users (its default and the emulator's cap)
    rate_limit: RateLimit | None = None
    faults: Any = ()  # a fault SPEC, see sandbox.confluence.faults
    seed: int | None = None
    ldif: Path | None = None  # a test directory loaded at start and on reset
    state_file: Path | None = None
    save_interval: float = 2.0
    # OAuth 2.0 service apps: client id -> public key (PEM) that verifies its client assertions
    oauth_clients: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if min(self.page_cap, self.group_page_cap, self.member_page_cap) < 1:
            raise ValueError("page caps must be at least 1")
        for name in ("ldif", "state_file"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
