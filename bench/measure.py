"""Wall time of a block, and the CPU time the processes it talks to spent meanwhile.

Whether a phase is limited by our code or by the server it waits on shows in
the CPU seconds each side spent during it: a server busy for the whole wall
time is the bottleneck, whatever the client does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

SELF = "self"
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a live process (from /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


def process_age() -> float:
    """Seconds since this process started."""
    stat = Path("/proc/self/stat").read_text()
    started_ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started_ticks / _TICKS


def pid_running(command_part: str) -> int:
    """The pid of the one process whose command line contains ``command_part``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if command_part in command:
                found.append(int(entry.name))
    if len(found) != 1:
        raise RuntimeError(f"expected one process running {command_part!r}, found {found}")
    return found[0]


class Meter:
    """Records, per named block, its wall seconds and the CPU seconds of each watched process."""

    def __init__(self, watched: Mapping[str, int]) -> None:
        self.watched = {SELF: os.getpid(), **watched}
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, dict[str, float]] = {}

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        before = {who: cpu_seconds(pid) for who, pid in self.watched.items()}
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start
            self.cpu[name] = {
                who: round(cpu_seconds(pid) - before[who], 2) for who, pid in self.watched.items()
            }

    def report(self, names: tuple[str, ...]) -> dict[str, dict[str, float | dict[str, float]]]:
        """Per block: wall ``seconds`` and ``cpu`` seconds of each watched process during it."""
        return {name: {"seconds": round(self.seconds[name], 3), "cpu": self.cpu[name]} for name in names}
