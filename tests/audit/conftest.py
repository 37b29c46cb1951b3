"""Every audit test runs against the embedded SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from confluence_provisioning.audit import AuditStore


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> sa.URL:
    if request.param == "sqlite":
        return sa.URL.create("sqlite", database=str(tmp_path / "audit.db"))
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(audit_url: sa.URL) -> Iterator[AuditStore]:
    store = AuditStore(audit_url)
    yield store
    store.close()
