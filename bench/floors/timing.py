"""Wall-clock timing of a block, for phases and floors alike."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stopwatch(into: dict[str, float], name: str) -> Iterator[None]:
    """Add the block's wall time in seconds to ``into[name]`` (added, so a phase may run in parts)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        into[name] = into.get(name, 0.0) + time.perf_counter() - start
