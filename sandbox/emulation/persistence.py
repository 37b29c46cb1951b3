"""The `--state` file: loaded at start, rewritten atomically while things change and at shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Snapshotted(Protocol):
    """What an emulator's store offers the state file: its state as JSON, and a change counter."""

    @property
    def revision(self) -> int: ...

    def dump(self) -> dict[str, Any]: ...

    def load(self, state: Any) -> None: ...


class StateFile:
    def __init__(self, path: Path, load_errors: tuple[type[Exception], ...] = (ValueError,)) -> None:
        self.path = path
        self._load_errors = load_errors  # what the store raises for unusable state
        self._saved_revision: int | None = None

    def load_into(self, store: Snapshotted) -> None:
        """Load the file when it exists; a missing file means a fresh site. ValueError when unusable."""
        if not self.path.exists():
            return
        try:
            with self.path.open("rb") as handle:
                store.load(json.load(handle))
        except (ValueError, *self._load_errors) as exc:
            raise ValueError(f"cannot load the state file {self.path}: {exc}") from exc
        self._saved_revision = store.revision

    def save(self, store: Snapshotted) -> None:
        """Write the state when it changed since the last write; readers never see half a file."""
        revision = store.revision
        if revision == self._saved_revision:
            return
        data = store.dump()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
        self._saved_revision = revision

    async def save_periodically(self, store: Snapshotted, interval: float) -> None:
        """Until cancelled: every `interval` seconds, write the state if it changed (off the event loop)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.save, store)
            except OSError:
                log.exception("could not write the state file %s", self.path)


@asynccontextmanager
async def state_lifespan(
    state_file: StateFile | None, store: Snapshotted, interval: float
) -> AsyncIterator[None]:
    """While serving: write the state file every `interval` seconds when it changed, and once at shutdown."""
    if state_file is None:
        yield
        return
    saver = asyncio.create_task(state_file.save_periodically(store, interval))
    try:
        yield
    finally:
        saver.cancel()
        state_file.save(store)
