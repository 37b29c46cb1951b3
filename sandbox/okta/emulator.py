"""One running emulated Okta org: its directory plus the run-time knobs (faults, rate limit, caps)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sandbox.emulation.controls import Controls
from sandbox.emulation.persistence import StateFile
from sandbox.okta.config import OktaConfig
from sandbox.okta.directory import Directory
from sandbox.okta.errors import OktaError
from sandbox.okta.oauth import AccessToken
from sandbox.okta.ratelimit import EndpointRateLimiter, RateLimit

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Settings:
    page_cap: int
    group_page_cap: int
    member_page_cap: int


class Emulator(Controls):
    """Everything the HTTP layer serves; tests reach it as `OktaServer.emulator`."""

    def __init__(self, config: OktaConfig | None = None) -> None:
        super().__init__()
        self.config = config or OktaConfig()
        self.directory = Directory()
        self.oauth_clients: dict[str, str] = dict(self.config.oauth_clients)
        self.access_tokens: dict[str, AccessToken] = {}
        self._apply_config()
        self.state_file = (
            StateFile(self.config.state_file, load_errors=(OktaError,)) if self.config.state_file else None
        )
        if self.state_file is not None:
            self.state_file.load_into(self.directory)

    def _apply_config(self) -> None:
        config = self.config
        self.settings = Settings(config.page_cap, config.group_page_cap, config.member_page_cap)
        self.tokens = frozenset(config.tokens)
        self.set_faults(config.faults, config.seed)
        self.set_rate_limit(config.rate_limit)
        if config.ldif is not None:
            self.load_ldif(config.ldif.read_text(encoding="utf-8"), str(config.ldif))

    @property
    def store(self) -> Directory:
        return self.directory

    def reset(self) -> None:
        """Back to the start-up options: the directory (the LDIF reloaded), faults, limits, counters."""
        self.directory.reset()
        self.counters.clear()
        self.access_tokens.clear()
        self._apply_config()

    def load_ldif(self, text: str, name: str | None = None) -> list[str]:
        """Replace the directory with an LDIF test directory; returns the warnings (entries left out)."""
        from sandbox.okta.ldif import load_ldif  # only this needs the LDIF model

        warnings = load_ldif(self.directory, text, name)
        for warning in warnings:
            log.warning("%s", warning)
        return warnings

    def set_rate_limit(self, limit: RateLimit | None) -> None:  # type: ignore[override]
        """Okta reports its limits on every answer, so there is always a limiter (None: no real limit)."""
        self.limiter = EndpointRateLimiter(limit)  # type: ignore[assignment]
