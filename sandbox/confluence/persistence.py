"""The `--state` file: loaded at start, rewritten atomically while things change and at shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from pathlib import Path

from sandbox.confluence.errors import ApiError
from sandbox.confluence.state import Directory

log = logging.getLogger(__name__)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved_revision: int | None = None

    def load_into(self, directory: Directory) -> None:
        """Load the file when it exists; a missing file means a fresh site. ValueError when unusable."""
        if not self.path.exists():
            return
        try:
            with self.path.open("rb") as handle:
                directory.load(json.load(handle))
        except (ValueError, ApiError) as exc:
            raise ValueError(f"cannot load the state file {self.path}: {exc}") from exc
        self._saved_revision = directory.revision

    def save(self, directory: Directory) -> None:
        """Write the state when it changed since the last write; readers never see half a file."""
        revision = directory.revision
        if revision == self._saved_revision:
            return
        data = directory.dump()
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

    async def save_periodically(self, directory: Directory, interval: float) -> None:
        """Until cancelled: every `interval` seconds, write the state if it changed (off the event loop)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.save, directory)
            except OSError:
                log.exception("could not write the state file %s", self.path)
