"""What users and groups share: entries kept as columns, or left out with a reject row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd
import pyarrow as pa

from confluence_provisioning.sources.rejects import RejectLog


def arrow_strings(values: list[str] | list[str | None]) -> pd.arrays.ArrowStringArray:
    """A column of `frames.STRING` dtype, converted in one Arrow call.

    Frames built from such columns pass `frames.conform` without a conversion;
    a plain list would be converted there element by element through pandas.
    """
    return pd.arrays.ArrowStringArray(pa.array(values, pa.large_string()))


@dataclass
class EntryColumns:
    """Ids and DNs of the entries kept, in directory order, and the DNs of those left out."""

    kind: ClassVar[str]  # "user" or "group", the reject rows' kind
    rejects: RejectLog
    ids: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    rejected_dns: list[str] = field(default_factory=list)
    _dn_of_id: dict[str, str] = field(default_factory=dict)

    def reject(self, dn: str, entry_id: str | None, reason: str) -> None:
        self.rejects.add(self.kind, dn, entry_id, f"{self.kind} left out: {reason}")
        self.rejected_dns.append(dn)

    def keep(self, dn: str, entry_id: str) -> bool:
        """Add the entry, unless its id is taken: two entries with one id is a directory error."""
        first = self._dn_of_id.setdefault(entry_id, dn)
        if first is not dn:  # (an entry found twice by overlapping searches is left out the second time)
            self.reject(dn, entry_id, f"its id is also the id of {first!r}")
            return False
        self.ids.append(entry_id)
        self.dns.append(dn)
        return True
