"""Runs one slapd process: start it, wait until it accepts connections, stop it for good."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from sandbox.openldap.errors import PortInUseError, SandboxError

SLAPD = "/usr/sbin/slapd"


def free_port() -> int:
    """A loopback port nobody listens on right now (slapd may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SlapdProcess:
    """slapd in the foreground (-d none: errors only) in its own process group, its stderr in `log_file`."""

    def __init__(self, config_dir: Path, ports: Sequence[tuple[str, int]], log_file: Path) -> None:
        self._config_dir = config_dir
        self._ports = list(ports)  # (scheme, port) pairs: ("ldap", 389), ("ldaps", 636)
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float) -> None:
        urls = " ".join(f"{scheme}://127.0.0.1:{port}/" for scheme, port in self._ports)
        with self._log_file.open("wb") as log:
            # A session of its own: Ctrl-C in a terminal reaches us, not slapd, and one
            # killpg ends slapd with anything it started.
            self._process = subprocess.Popen(
                [SLAPD, "-F", str(self._config_dir), "-h", urls, "-d", "none"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_listening(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, *, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; no-op when not running."""
        process, self._process = self._process, None
        if process is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        process.wait()

    def kill(self) -> None:
        """Die at once, the way a crashed or unplugged server does."""
        self.stop(grace=0.0)

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = [port for _, port in self._ports]
        while pending:
            assert self._process is not None
            if self._process.poll() is not None:
                self._raise_failed(f"slapd exited with status {self._process.returncode}")
            if _accepts(pending[0]):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                self._raise_failed(f"slapd did not listen on port {pending[0]} within {timeout:g} s")
            time.sleep(0.02)

    def _raise_failed(self, reason: str) -> None:
        log = self._log_file.read_text(errors="replace").strip()
        error = PortInUseError if "Address already in use" in log else SandboxError
        raise error(f"{reason}; its output:\n{log or '(nothing)'}")


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
