"""Run the Entra emulator in-process (see `sandbox.emulation.server`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sandbox.emulation.server import BackgroundServer
from sandbox.entra.app import create_app
from sandbox.entra.config import EntraConfig
from sandbox.entra.directory import EntraDirectory
from sandbox.entra.emulator import EntraEmulator


class EntraEmulatorServer(BackgroundServer):
    """A running emulator for tests::

        with EntraEmulatorServer(ldif=EXAMPLE_LDIF) as server:
            token = httpx.post(server.token_url, data=server.token_form).json()["access_token"]
            httpx.get(f"{server.graph_url}/v1.0/users", headers={"Authorization": f"Bearer {token}"})
            server.directory.apply_ldif("dn: uid=ckim,...\\nchangetype: delete\\n")

    Keyword arguments are the fields of `EntraConfig`, or pass `config=`. The same server is the
    Graph host and the token authority, as a connection's host and ``authority`` extra name them.
    """

    name = "Entra emulator"

    def __init__(self, config: EntraConfig | None = None, *, host: str = "127.0.0.1", **options: Any) -> None:
        known = {field.name for field in fields(EntraConfig)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"unknown emulator options: {sorted(unknown)}")
        super().__init__(host)
        self.config = config or EntraConfig(**options)
        self.emulator: EntraEmulator | None = None

    def create_app(self) -> Any:
        self.emulator = EntraEmulator(self.config)
        return create_app(self.emulator)

    @property
    def graph_url(self) -> str:
        """A connection's host: where /v1.0/ is (Graph's is https://graph.microsoft.com)."""
        return f"http://{self.host}:{self.port}"

    @property
    def authority(self) -> str:
        """A connection's ``authority`` extra (the identity platform's is https://login.microsoftonline.com)."""
        return self.graph_url

    @property
    def token_url(self) -> str:
        return f"{self.authority}/{self.config.tenant}/oauth2/v2.0/token"

    @property
    def token_form(self) -> dict[str, str]:
        return {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "scope": "https://graph.microsoft.com/.default",
            "grant_type": "client_credentials",
        }

    @property
    def admin_url(self) -> str:
        return f"{self.graph_url}/__emulator"

    @property
    def directory(self) -> EntraDirectory:
        return self._running().directory

    def _running(self) -> EntraEmulator:
        if self.emulator is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return self.emulator

    def reset(self) -> None:
        """The start-up directory and options; tokens and counters gone."""
        self._running().reset()
