"""Entries the extraction leaves out (or warns about), each with its DN and the reason."""

from __future__ import annotations

import pandas as pd

from confluence_provisioning import frames


class RejectLog:
    """Collects reject rows as columns; `frame()` turns them into the shared rejects frame."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, str, str | None, str]] = []

    def add(self, kind: str, dn: str, entry_id: str | None, reason: str) -> None:
        self._rows.append((kind, dn, entry_id, reason))

    def frame(self) -> pd.DataFrame:
        return frames.from_records(
            (
                {"source": "idp", "kind": kind, "dn": dn, "id": entry_id, "reason": reason}
                for kind, dn, entry_id, reason in self._rows
            ),
            frames.REJECTS,
        )
