"""One running emulated tenant: its directory, access tokens, paging settings and the shared knobs."""

from __future__ import annotations

import dataclasses
from typing import Any

from sandbox.emulation.controls import Controls
from sandbox.emulation.persistence import StateFile
from sandbox.emulation.ratelimit import RateLimit
from sandbox.entra.config import EntraConfig
from sandbox.entra.directory import EntraDirectory
from sandbox.entra.graph import MAX_TOP
from sandbox.entra.queries import Settings
from sandbox.entra.ratelimit import GraphThrottle
from sandbox.entra.tokens import AccessTokens


class EntraEmulator(Controls):
    """Everything the HTTP layer serves; tests reach it as `EntraEmulatorServer.emulator`."""

    def __init__(self, config: EntraConfig | None = None) -> None:
        super().__init__()
        self.config = config or EntraConfig()
        self.directory = EntraDirectory()
        self.tokens = AccessTokens()
        self.state_file = StateFile(self.config.state_file) if self.config.state_file else None
        if self.state_file is not None and self.config.state_file.exists():
            self.state_file.load_into(self.directory)
        elif self.config.ldif is not None:
            self.directory.load_ldif(self.config.ldif)
        self._apply_config()

    def _apply_config(self) -> None:
        self.settings = Settings(page_cap=self.config.page_cap)
        self.token_lifetime = self.config.token_lifetime
        self.set_faults(self.config.faults, self.config.seed)
        self.set_rate_limit(self.config.throttle)

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        """Throttle per application (None: off), with fresh buckets."""
        self.limiter = GraphThrottle(limit) if limit is not None else None

    @property
    def store(self) -> EntraDirectory:
        return self.directory

    def reset(self) -> None:
        """The start-up directory (--ldif, or empty), settings, faults and throttle; no tokens, no counts."""
        self.directory.clear()
        if self.config.ldif is not None:
            self.directory.load_ldif(self.config.ldif)
        self.tokens.clear()
        self.counters.clear()
        self._apply_config()
        self.save()

    def save(self) -> None:
        """Write the state file (when there is one) after a change."""
        if self.state_file is not None:
            self.state_file.save(self.directory)

    def settings_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self.settings), "token_lifetime": self.token_lifetime}

    def update_settings(self, changes: dict[str, Any]) -> None:
        """Change some settings (keys as in `settings_json`); ValueError if wrong."""
        known = set(self.settings_json())
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}; known: {sorted(known)}")
        fields = {f.name: f.type for f in dataclasses.fields(Settings)}
        updated = dataclasses.replace(
            self.settings,
            **{
                k: (bool(v) if fields[k] == "bool" else type(getattr(self.settings, k))(v))
                for k, v in changes.items()
                if k in fields
            },
        )
        if (
            not 1 <= updated.page_cap <= MAX_TOP
            or updated.delta_page_size < 1
            or updated.delta_member_page < 1
        ):
            raise ValueError(f"page_cap must be 1..{MAX_TOP}; delta page sizes at least 1")
        self.settings = updated
        if "token_lifetime" in changes:
            self.token_lifetime = int(changes["token_lifetime"])
