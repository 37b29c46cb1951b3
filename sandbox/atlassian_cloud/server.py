"""Run the Atlassian Cloud emulator in-process (see `sandbox.emulation.server`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sandbox.atlassian_cloud.app import create_app
from sandbox.atlassian_cloud.config import CloudConfig
from sandbox.atlassian_cloud.emulator import CloudEmulator
from sandbox.atlassian_cloud.store import DirectoryStore
from sandbox.emulation.server import BackgroundServer


class CloudEmulatorServer(BackgroundServer):
    """A running emulator for tests::

        with CloudEmulatorServer(verified_domains=("example.com",)) as server:
            httpx.get(f"{server.base_url}/Users", headers=server.auth_headers)

    Keyword arguments are the fields of `CloudConfig`, or pass `config=`.
    """

    name = "Atlassian Cloud emulator"

    def __init__(self, config: CloudConfig | None = None, *, host: str = "127.0.0.1", **options: Any) -> None:
        known = {field.name for field in fields(CloudConfig)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"unknown emulator options: {sorted(unknown)}")
        super().__init__(host)
        self.config = config or CloudConfig(**options)
        self.emulator: CloudEmulator | None = None

    def create_app(self) -> Any:
        self.emulator = CloudEmulator(self.config)
        return create_app(self.emulator)

    @property
    def api_url(self) -> str:
        """What a connection's host is: the API base URL (Atlassian's is https://api.atlassian.com)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The directory's SCIM base URL, without a trailing slash."""
        return self.api_url + self.config.api_prefix

    @property
    def admin_url(self) -> str:
        return f"{self.api_url}/__emulator"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.token}"}

    @property
    def directory(self) -> DirectoryStore:
        return self._running().directory

    @property
    def state(self) -> dict[str, Any]:
        """The directory in the state JSON format (see `store.py`)."""
        return self.directory.dump()

    def _running(self) -> CloudEmulator:
        if self.emulator is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return self.emulator

    def reset(self) -> None:
        """An empty directory with the start-up options (faults, limits; counters cleared)."""
        self._running().reset()
