"""Incremental source reads: the last snapshot and a cursor per source, and when to read in full.

A source kind that can ask its identity provider for changes only (Entra ID delta links, Okta
``lastUpdated`` filters) keeps, after each read, its raw state as named Arrow tables (e.g. users,
groups, direct members) and a cursor (JSON: delta links, a timestamp). The tables are
Arrow IPC files under the run storage base (``<base>/_source_state/<source>/<generation>/``), the
cursor and the files' URIs one row of the audit store (``provisioning_source_states``), written
after the files, so a crash leaves the previous state whole. The next run loads them and the
kind applies the changes to them (Entra patches numbered tables, touching only what changed;
Okta merges its frames by id); each kind then makes its frames from the tables the same way
after a full and an incremental read, which is why the two agree.

``read_state`` decides: a full read when the run asks for one (the DAG's ``full_read`` param),
when nothing is saved, when the saved state was made with other settings (the fingerprint), or
when the provider says the cursor is stale (the kind raises ``StaleCursor``); the reason is
logged. The state is saved after every successful read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from confluence_provisioning import storage

if TYPE_CHECKING:  # types only: Airflow loads the hooks (provider info) while it imports itself
    import pyarrow as pa
    from airflow.sdk import ObjectStoragePath

    from confluence_provisioning.audit import AuditStore

log = logging.getLogger("confluence_provisioning.sources")

STATE_FOLDER = "_source_state"


class StaleCursor(Exception):
    """The provider will not answer from this cursor (expired, reset): read everything again."""


@dataclass(frozen=True)
class SourceState:
    """A source's raw state between runs: named tables and the cursor to ask for what changed since."""

    tables: Mapping[str, pa.Table]  # as written and read back: no pandas conversion either way
    cursor: Mapping[str, Any] = field(default_factory=dict)


def fingerprint(**settings: Any) -> str:
    """A digest of the settings a saved state depends on: when they change, the state is not used."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


class SourceStates:
    """Saved source states: the cursor rows in the audit store, the tables under ``base``."""

    def __init__(self, audit: AuditStore, base: ObjectStoragePath) -> None:
        self.audit = audit
        self.base = base

    def load(self, key: str, digest: str) -> tuple[SourceState | None, str]:
        """(the saved state, "") or (None, why it cannot be used)."""
        row = self.audit.source_state(key)
        if row is None:
            return None, "no saved state (a first read)"
        if row["fingerprint"] != digest:
            return None, "the settings changed since the saved state was made"
        try:
            tables = {name: storage.read_table(uri) for name, uri in row["tables"].items()}
        except (OSError, ValueError) as error:
            return None, f"the saved snapshot cannot be read ({error})"
        return SourceState(tables, row["cursor"]), ""

    def save(self, key: str, digest: str, state: SourceState) -> None:
        folder = self.base / STATE_FOLDER / storage.folder_name(key)
        generation = folder / uuid.uuid4().hex
        uris = {
            name: storage.write_arrow_table(generation, name, table)  # written and read every run
            for name, table in state.tables.items()
        }
        self.audit.save_source_state(key, digest, state.cursor, uris)
        for old in folder.iterdir():  # earlier generations: no row points at them any more
            if old.name != generation.name:
                _remove(old)


def _remove(path: ObjectStoragePath) -> None:
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def read_state(
    states: SourceStates | None,
    key: str,
    digest: str,
    *,
    full_read: bool,
    read_all: Callable[[], SourceState],
    read_changes: Callable[[SourceState], SourceState],
) -> tuple[SourceState, str]:
    """(the source's state now, how it was read): changes applied to the saved state, or a full read."""
    if states is None:
        return read_all(), "full"
    saved, why = (None, "a full read was asked for") if full_read else states.load(key, digest)
    if saved is not None:
        try:
            state, how = read_changes(saved), "incremental"
        except StaleCursor as error:
            log.warning("Reading %s in full: the provider asks for it (%s)", key, error)
            state, how = read_all(), "full (the provider asked for a resync)"
    else:
        log.info("Reading %s in full: %s", key, why)
        state, how = read_all(), f"full ({why})"
    states.save(key, digest, state)
    return state, how
