"""A small sampling profiler that sees every thread, for phases that work in thread pools.

pyinstrument follows only the thread that starts it, and the Confluence reads
and the applier work in pool threads. This samples ``sys._current_frames()``
of all threads a few dozen times a second and counts, per function, the
samples in which it ran ("self") or was on the stack ("total"). Threads whose
innermost frame is a wait (a queue, a lock, a socket read) are counted apart:
they are waiting for the server or for work, not spending CPU.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

INTERVAL = 0.02  # seconds between samples
# innermost functions that mean "blocked": on the server, on other threads, or idle
WAITS = frozenset(
    {
        "wait",
        "acquire",
        "get",
        "result",
        "readinto",
        "recv_into",
        "select",
        "poll",
        "sleep",
        "_worker",
        "join",
    }
)
TOP = 40


class Sampler:
    def __init__(self) -> None:
        self.running: Counter[str] = Counter()  # innermost frame, thread not waiting
        self.total: Counter[str] = Counter()  # anywhere on a running thread's stack
        self.waiting: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    @contextmanager
    def sampling(self) -> Iterator[Sampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        own = threading.get_ident()
        while not self._stop.wait(INTERVAL):
            self.samples += 1
            for ident, frame in sys._current_frames().items():
                if ident != own:
                    self._count(frame)

    def _count(self, frame: FrameType) -> None:
        leaf = _name(frame)
        if frame.f_code.co_name in WAITS:
            self.waiting[leaf] += 1
            return
        self.running[leaf] += 1
        seen = set()
        current: FrameType | None = frame
        while current is not None:
            name = _name(current)
            if name not in seen:
                seen.add(name)
                self.total[name] += 1
            current = current.f_back

    def write(self, path: Path, title: str) -> None:
        """The top functions by self and by total samples, as text."""
        running, waiting = sum(self.running.values()), sum(self.waiting.values())
        lines = [
            f"{title}: {self.samples} samples every {INTERVAL * 1000:g} ms; "
            f"{running} thread-samples running, {waiting} waiting",
            "",
            "self  (innermost frame of a running thread)",
            *_table(self.running, running),
            "",
            "total (anywhere on a running thread's stack)",
            *_table(self.total, running),
            "",
            "waiting (innermost frame of a blocked thread)",
            *_table(self.waiting, waiting),
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _name(frame: FrameType) -> str:
    code = frame.f_code
    filename = code.co_filename
    for marker in ("site-packages/", "plugins/", "/lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{code.co_firstlineno} {code.co_qualname}"


def _table(counts: Counter[str], whole: int) -> list[str]:
    return [f"{100 * count / max(whole, 1):6.1f}%  {name}" for name, count in counts.most_common(TOP)]
