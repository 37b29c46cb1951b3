"""How messages list names: the first few, then how many more."""

from __future__ import annotations

from collections.abc import Iterable

from confluence_provisioning.printable import printable


def first_names(names: Iterable[str], count: int = 5) -> str:
    """``alice, bob, carol and 12 more``; directory names escaped (notes and guard messages are printed)."""
    listed = [printable(name) for name in names]
    shown = ", ".join(listed[:count])
    return f"{shown} and {len(listed) - count} more" if len(listed) > count else shown
