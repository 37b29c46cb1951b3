"""Run the Okta emulator in-process: uvicorn in a background thread on a free loopback port."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import uvicorn

from sandbox.emulation.server import BackgroundServer
from sandbox.okta.config import OktaConfig
from sandbox.okta.directory import Directory
from sandbox.okta.emulator import Emulator


class OktaServer(BackgroundServer):
    """A running Okta org for tests::

        with OktaServer(ldif="sandbox/directories/example.ldif") as okta:
            requests.get(f"{okta.base_url}/api/v1/users", headers=okta.auth_headers)
            okta.directory.set_status("alice@example.com", "DEPROVISIONED")

    Keyword arguments are the fields of `OktaConfig`, or pass `config=`.
    """

    name = "okta-emulator"

    def __init__(self, config: OktaConfig | None = None, *, host: str = "127.0.0.1", **options: Any) -> None:
        super().__init__(host)
        unknown = set(options) - {field.name for field in fields(OktaConfig)}
        if unknown:
            raise TypeError(f"unknown emulator options: {sorted(unknown)}")
        self.config = config or OktaConfig(**options)
        self.emulator: Emulator | None = None

    def create_app(self) -> Any:
        from sandbox.okta.app import create_app

        self.emulator = Emulator(self.config)
        return create_app(self.emulator)

    def start(self) -> OktaServer:
        super().start()
        _without_uvicorn_date(self._server)
        return self

    @property
    def base_url(self) -> str:
        """The org URL (what a connection's host holds)."""
        return f"http://{self.host}:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/__emulator"

    @property
    def token(self) -> str:
        return self.config.tokens[0]

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"SSWS {self.token}", "Accept": "application/json"}

    @property
    def directory(self) -> Directory:
        return self._running().directory

    def _running(self) -> Emulator:
        if self.emulator is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return self.emulator

    def reset(self) -> None:
        self._running().reset()


def _without_uvicorn_date(server: uvicorn.Server | None) -> None:
    """uvicorn refreshes its Date header once a second; the emulator sends an exact one itself."""
    if server is not None:
        server.config.date_header = False
        server.server_state.default_headers = list(server.config.encoded_headers)
