"""Start-up options of the Entra emulator (the CLI flags and `EntraEmulatorServer` keyword arguments)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.emulation.ratelimit import RateLimit
from sandbox.entra.graph import MAX_TOP


@dataclass(frozen=True)
class EntraConfig:
    tenant: str = "00000000-0000-0000-0000-00000000e27a"  # the tenant id (a GUID in Entra)
    client_id: str = "11111111-1111-1111-1111-111111111111"  # the app registration's client id
    client_secret: str = "emulator-secret"
    ldif: Path | None = None  # the directory loaded at start and on reset
    state_file: Path | None = None  # loaded at start (wins over ldif), written after every change
    page_cap: int = MAX_TOP  # most objects a list page holds (Graph: 999)
    throttle: RateLimit | None = None  # per-app token bucket; empty -> 429 with Retry-After
    faults: Any = ()  # a fault SPEC, see sandbox.emulation.faults
    seed: int | None = None
    token_lifetime: int = 3599  # seconds, as the identity platform answers

    def __post_init__(self) -> None:
        for name in ("ldif", "state_file"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        if not 1 <= self.page_cap <= MAX_TOP:
            raise ValueError(f"page_cap must be between 1 and {MAX_TOP}")
