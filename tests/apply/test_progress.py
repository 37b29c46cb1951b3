"""Apply's progress lines: a long stage says how far it is while it runs."""

from __future__ import annotations

import logging

import pytest

from confluence_provisioning.apply.applier import FAILED, _Progress


def test_progress_every_n_operations_with_failures_and_rate(caplog: pytest.LogCaptureFixture) -> None:
    progress = _Progress("add memberships", 5, every=2, seconds=3600)
    with caplog.at_level(logging.INFO, logger="confluence_provisioning"):
        for status in ("applied", FAILED, "applied", "applied", "applied"):
            progress.record(status)

    lines = [record.getMessage() for record in caplog.records]
    # at 2 and 4 of 5; the stage's own summary line reports the end
    assert [line.split(" operations/s")[0].rsplit(", ", 1)[0] for line in lines] == [
        "stage add memberships: 2 of 5 operations done, 1 failed",
        "stage add memberships: 4 of 5 operations done, 1 failed",
    ]
    assert all(line.endswith(" operations/s") for line in lines)


def test_progress_every_few_seconds_in_a_slow_stage(caplog: pytest.LogCaptureFixture) -> None:
    progress = _Progress("create users", 100, every=1000, seconds=0.0)
    with caplog.at_level(logging.INFO, logger="confluence_provisioning"):
        progress.record("applied")
        progress.record("applied")

    assert len(caplog.records) == 2
