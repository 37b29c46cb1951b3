"""The systems a benchmark talks to, each in its own process: slapd and the Confluence emulator.

The emulator runs as ``python -m sandbox.confluence`` so that it never shares a
GIL with the pipeline or a floor; its ``/__emulator/`` endpoints load a
starting state and read the request counters.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests

from bench.floors.confluence import Site
from sandbox.openldap.process import free_port

START_TIMEOUT = 30.0
ADMIN = ("admin", "admin")


def start_emulator(
    module: Sequence[str],
    port: int,
    log_file: Path,
    *,
    timeout: float,
    probe: str = "/__emulator/counters",
    poll: float = 0.5,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """``python -m <module...>`` with its output in ``log_file``, returned once ``GET <probe>`` on
    ``port`` answers; RuntimeError (with the log's end) if it exits first or is not listening in time."""
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *module], stdout=log, stderr=subprocess.STDOUT, **popen
        )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{module[0]} exited: {log_file.read_text(errors='replace')[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", probe)
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                stop_process(process, force=True)
                raise RuntimeError(f"{module[0]} did not listen within {timeout:g} s") from None
            time.sleep(poll)


def stop_process(process: subprocess.Popen[bytes], *, force: bool = False, grace: float = 30) -> None:
    """Terminate (``force``: kill) a child and wait; killed when it outlives ``grace`` seconds."""
    if force:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
        self._process = start_emulator(
            ("sandbox.confluence", "--port", str(self.port)), self.port, self._log_file,
            timeout=START_TIMEOUT, probe="/__emulator/settings", poll=0.05,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        return self

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
