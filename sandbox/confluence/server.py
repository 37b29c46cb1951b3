"""Run the Confluence emulator in-process (see `sandbox.emulation.server`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sandbox.confluence.app import create_app
from sandbox.confluence.config import EmulatorConfig
from sandbox.confluence.emulator import Emulator
from sandbox.confluence.state import Directory
from sandbox.emulation.server import BackgroundServer


class EmulatorServer(BackgroundServer):
    """A running emulator for tests::

        with EmulatorServer(seats=10) as server:
            requests.get(f"{server.base_url}/rest/api/user/list", auth=server.admin_auth)
            server.directory.create_user("bob", "Bob", "bob@example.com", "pw")

    Keyword arguments are the fields of `EmulatorConfig`, or pass `config=`.
    """

    name = "Confluence emulator"

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", **options: Any
    ) -> None:
        known = {field.name for field in fields(EmulatorConfig)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"unknown emulator options: {sorted(unknown)}")
        super().__init__(host)
        self.config = config or EmulatorConfig(**options)
        self.emulator: Emulator | None = None

    def create_app(self) -> Any:
        self.emulator = Emulator(self.config)
        return create_app(self.emulator)

    @property
    def base_url(self) -> str:
        """The site's base URL, context path included, without a trailing slash."""
        return f"http://{self.host}:{self.port}{self.config.context_path}"

    @property
    def admin_url(self) -> str:
        """Where the `/__emulator/` endpoints are (outside the context path)."""
        return f"http://{self.host}:{self.port}/__emulator"

    @property
    def admin_auth(self) -> tuple[str, str]:
        return self.config.admin_user, self.config.admin_password

    @property
    def directory(self) -> Directory:
        """The live directory (users, groups, memberships), for arranging and checking tests."""
        return self._running().directory

    @property
    def state(self) -> dict[str, Any]:
        """A snapshot of the directory in the state JSON format."""
        return self.directory.dump()

    def _running(self) -> Emulator:
        if self.emulator is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return self.emulator

    def reset(self) -> None:
        """Back to a fresh site with the start-up options (directory, faults, limits, counters)."""
        self._running().reset()
