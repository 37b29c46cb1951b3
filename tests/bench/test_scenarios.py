"""Which benchmarks ``python -m bench.run --scenario`` runs, and at which size."""

from __future__ import annotations

from bench.company import CompanySize
from bench.scenarios import CHOICES, FULL, cloud_size, selected


def test_the_cloud_benchmark_runs_alone_or_last_in_all_at_the_full_size_or_resized() -> None:
    assert "cloud" in CHOICES
    assert selected("cloud", None) == [] and cloud_size("cloud", None) == FULL
    assert cloud_size("cloud", 1_000) == CompanySize(1_000, 50, 10_000)
    assert cloud_size("all", None) == FULL and [s.name for s in selected("all", None)][-1] == "churn"
    assert cloud_size("noop", None) is None and cloud_size("scale", None) is None
