"""Task log helpers: collapsible groups in the Airflow UI and one-line summaries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from confluence_provisioning.printable import printable_logger

log = printable_logger("confluence_provisioning.pipeline")


@contextmanager
def group(title: str) -> Iterator[None]:
    """Fold what is logged inside into one collapsible group (Airflow's ``::group::`` markers)."""
    log.info("::group::%s", title)
    try:
        yield
    finally:
        log.info("::endgroup::")


def counts_text(counts: Mapping[str, int]) -> str:
    """``120 users, 30 groups``: counts in the order given."""
    return ", ".join(f"{count} {name}" for name, count in counts.items())
