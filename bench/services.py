"""The systems a benchmark talks to, each in its own process: slapd and the Confluence emulator.

The emulator runs as ``python -m sandbox.confluence`` so that it never shares a
GIL with the pipeline or a floor; its ``/__emulator/`` endpoints load a
starting state and read the request counters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests

from bench.floors.confluence import Site
from sandbox.openldap.process import free_port

START_TIMEOUT = 30.0
ADMIN = ("admin", "admin")


class EmulatorProcess:
    """A Confluence emulator in a child process on a free loopback port."""

    def __init__(self, log_file: Path) -> None:
        self.port = free_port()
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._http = requests.Session()
        self._http.trust_env = False

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the emulator is not running")
        return self._process.pid

    @property
    def site(self) -> Site:
        return Site(f"http://127.0.0.1:{self.port}", *ADMIN)

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/__emulator"

    def start(self) -> Self:
        with self._log_file.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.confluence", "--port", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the emulator exited: {self._log_file.read_text(errors='replace')}")
            try:
                self._http.get(f"{self.control_url}/settings", timeout=1).raise_for_status()
                return self
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the emulator did not listen within {START_TIMEOUT:g} s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def load_state(self, state_file: Path | None) -> None:
        """Replace the site with the state file's (None: a fresh site); counters start from zero."""
        if state_file is None:
            self._http.post(f"{self.control_url}/reset", timeout=60).raise_for_status()
        else:
            body = state_file.read_bytes()
            headers = {"Content-Type": "application/json"}
            self._http.put(
                f"{self.control_url}/state", data=body, headers=headers, timeout=300
            ).raise_for_status()
        self.clear_counters()

    def state(self) -> dict[str, Any]:
        response = self._http.get(f"{self.control_url}/state", timeout=300)
        response.raise_for_status()
        return response.json()

    def counters(self) -> dict[str, Any]:
        response = self._http.get(f"{self.control_url}/counters", timeout=60)
        response.raise_for_status()
        return response.json()

    def clear_counters(self) -> None:
        self._http.delete(f"{self.control_url}/counters", timeout=60).raise_for_status()
