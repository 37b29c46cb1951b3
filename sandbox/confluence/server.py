"""Run the emulator in-process: uvicorn in a background thread on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import fields
from types import TracebackType
from typing import Any, Self

import uvicorn

from sandbox.confluence.app import create_app
from sandbox.confluence.config import EmulatorConfig
from sandbox.confluence.emulator import Emulator
from sandbox.confluence.state import Directory

START_TIMEOUT = 30.0


def uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """Fast settings: httptools and uvloop when installed, no access log."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http="auto",
        loop="auto",
        timeout_graceful_shutdown=5,
    )


class EmulatorServer:
    """A running emulator for tests::

        with EmulatorServer(seats=10) as server:
            requests.get(f"{server.base_url}/rest/api/user/list", auth=server.admin_auth)
            server.directory.create_user("bob", "Bob", "bob@example.com", "pw")

    Keyword arguments are the fields of `EmulatorConfig`, or pass `config=`.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", **options: Any
    ) -> None:
        known = {field.name for field in fields(EmulatorConfig)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"unknown emulator options: {sorted(unknown)}")
        self.config = config or EmulatorConfig(**options)
        self.host = host
        self.port = 0
        self.emulator: Emulator | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

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

    def start(self) -> Self:
        self.emulator = Emulator(self.config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn_config(create_app(self.emulator), self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"confluence-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the Confluence emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving (the state file, if any, is written) and wait for the thread to end."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=START_TIMEOUT)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
