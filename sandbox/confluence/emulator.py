"""One running emulated site: its directory plus the run-time knobs (faults, rate limit, settings)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sandbox.confluence.config import EmulatorConfig, ListCaps
from sandbox.confluence.errors import ApiError
from sandbox.confluence.state import Directory
from sandbox.confluence.tasks import LongTasks
from sandbox.emulation.controls import Controls
from sandbox.emulation.persistence import StateFile


@dataclass(slots=True)
class Settings:
    """Site settings an admin endpoint can change while the emulator runs."""

    show_emails: bool
    caps: ListCaps
    buggy_paging: bool
    delete_delay_ms: float


class Emulator(Controls):
    """Everything the HTTP layer serves; tests reach it as `EmulatorServer.emulator`."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        super().__init__()
        self.config = config or EmulatorConfig()
        self.directory = Directory(self.config.admin_user, self.config.admin_password, self.config.seats)
        self.tasks = LongTasks()
        self.state_file = (
            StateFile(self.config.state_file, load_errors=(ApiError,)) if self.config.state_file else None
        )
        if self.state_file is not None:
            self.state_file.load_into(self.directory)
        self._apply_config()

    def _apply_config(self) -> None:
        config = self.config
        self.settings = Settings(config.show_emails, config.caps, config.buggy_paging, config.delete_delay_ms)
        self.directory.seats = config.seats
        self.set_faults(config.faults, config.seed)
        self.set_rate_limit(config.rate_limit)
        for token in config.tokens:
            self.directory.issue_token(config.admin_user, token)

    @property
    def store(self) -> Directory:
        return self.directory

    def reset(self) -> None:
        """A fresh site with the start-up options: directory, settings, faults, limits and counters."""
        self.directory.reset()
        self.counters.clear()
        self.tasks.clear()
        self._apply_config()

    def settings_json(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "seats": self.directory.seats,
            "active_users": self.directory.active_users,
            "show_emails": settings.show_emails,
            "caps": {
                "users": settings.caps.users,
                "groups": settings.caps.groups,
                "members": settings.caps.members,
            },
            "buggy_paging": settings.buggy_paging,
            "delete_delay_ms": settings.delete_delay_ms,
        }

    def update_settings(self, changes: dict[str, Any]) -> None:
        """Change some settings (keys as in `settings_json`, `active_users` excepted); ValueError if wrong."""
        unknown = set(changes) - {"seats", "show_emails", "caps", "buggy_paging", "delete_delay_ms"}
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        settings = self.settings
        if "caps" in changes:
            caps = replace(settings.caps, **{key: int(value) for key, value in dict(changes["caps"]).items()})
            if min(caps.users, caps.groups, caps.members) < 1:
                raise ValueError("caps must be at least 1")
            settings.caps = caps
        if "seats" in changes:
            self.directory.seats = None if changes["seats"] is None else int(changes["seats"])
        if "show_emails" in changes:
            settings.show_emails = bool(changes["show_emails"])
        if "buggy_paging" in changes:
            settings.buggy_paging = bool(changes["buggy_paging"])
        if "delete_delay_ms" in changes:
            settings.delete_delay_ms = float(changes["delete_delay_ms"])
