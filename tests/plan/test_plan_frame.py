"""The plan as a frame: Parquet round trip and stable order (planning's cost curve: tests/scale)."""

from __future__ import annotations

import pandas as pd

from confluence_provisioning.plan.planner import Plan, plan
from confluence_provisioning.settings import Settings
from tests.plan.states import current, desired


def test_a_plan_survives_parquet_with_its_email_source_and_notes(tmp_path):
    want = desired(
        [("alice", "Alice", "alice@example.org", True)], [("eng", True, True)], [("eng", "alice", False)]
    )
    original = plan(want, current([("bob", "Bob", None, True)]), Settings(), allow_over_limits=True)
    path = tmp_path / "plan.parquet"
    original.to_frame().to_parquet(path)

    restored = Plan.from_frame(pd.read_parquet(path))

    assert restored.operations == original.operations
    assert restored.email_source == "none"
    assert restored.notes == original.notes
    assert list(restored.frame.columns) == ["kind", "target", "group", "payload", "reason"]


def test_from_frame_restores_stage_order():
    want = desired(
        [("b", "B", "b@example.org", True), ("a", "A", "a@example.org", True)], [("g", True, False)]
    )
    frame = plan(want, current(), Settings()).to_frame()
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    assert [op.target for op in Plan.from_frame(shuffled).operations] == ["g", "a", "b"]
