"""Start-up options of the emulator (the CLI flags and `EmulatorServer` keyword arguments)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.emulation.ratelimit import RateLimit


@dataclass(frozen=True, slots=True)
class ListCaps:
    """The most items one page may hold, whatever `limit` was asked (Confluence caps them too)."""

    users: int = 1000
    groups: int = 1000
    members: int = 200


@dataclass(frozen=True)
class EmulatorConfig:
    admin_user: str = "admin"
    admin_password: str = "admin"
    seats: int | None = None  # licence seats; None means unlimited
    rate_limit: RateLimit | None = None
    faults: Any = ()  # a fault SPEC, see sandbox.emulation.faults
    seed: int | None = None  # overrides the seed in `faults`
    show_emails: bool = True  # the site's email visibility: users carry `email` only when on
    tokens: tuple[str, ...] = ()  # personal access tokens of the admin account
    context_path: str = ""  # e.g. "/confluence"
    caps: ListCaps = field(default_factory=ListCaps)
    buggy_paging: bool = False  # CONFSERVER-95396: wrong `size` and `next` above 200 items
    delete_delay_ms: float = 100.0  # how long the user-delete long task runs
    state_file: Path | None = None
    save_interval: float = 2.0  # seconds between state file writes while something changed

    def __post_init__(self) -> None:
        context = self.context_path.rstrip("/")
        if context and not context.startswith("/"):
            context = "/" + context
        object.__setattr__(self, "context_path", context)
        if self.state_file is not None:
            object.__setattr__(self, "state_file", Path(self.state_file))
