"""The Entra incremental read's local steps, each timed, in fresh processes.

    python -m bench.entra --capture DIR      # once: a 100k tenant's saved state and a 1% delta
    python -m bench.entra_steps DIR [--runs 5]

Each run is a new process (as a task is): it loads the saved tables (``load``), makes the
numbered tables of them (``from_state``), applies the delta (``patch``), saves the new state
(``save``) and makes the frames (``frames``). Prints one JSON line per run with each step's CPU
milliseconds, wall milliseconds and minor page faults (fresh memory the kernel hands out), then
the median of each. The delta's requests are not in it: ``bench.entra`` measures the whole read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STEPS = ("load", "from_state", "patch", "save", "frames")
TABLES = ("users", "groups", "loose", "edges", "flat")


def one_run(folder: Path) -> dict[str, Any]:
    import pyarrow as pa
    from airflow.sdk import ObjectStoragePath

    from bench.entra import SETTINGS
    from confluence_provisioning import storage
    from confluence_provisioning.sources.entra.tenant import TenantTables
    from confluence_provisioning.sources.incremental import SourceState

    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:  # the image's allocator, as bench.entra
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    delta = pickle.loads((folder / "delta.pickle").read_bytes())
    out = ObjectStoragePath(f"file://{tempfile.mkdtemp(prefix='entra-steps-')}")
    warm = storage.write_arrow_table(out, "warm", pa.table({"a": [1]}))
    storage.read_table(warm)  # the I/O machinery loaded before the clock starts
    marks: list[tuple[float, float, int]] = []

    def mark() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        marks.append((time.perf_counter(), usage.ru_utime + usage.ru_stime, usage.ru_minflt))

    mark()
    saved = SourceState({name: storage.read_table(f"file://{folder}/{name}.arrow") for name in TABLES}, {})
    mark()
    tables = TenantTables.from_state(saved)
    mark()
    patched = tables.patched(delta, SETTINGS)
    mark()
    for name, table in patched.to_state({}).tables.items():
        storage.write_arrow_table(out, name, table)
    mark()
    patched.frames(SETTINGS)
    mark()
    line: dict[str, Any] = {}
    for step, (before, after) in zip(STEPS, itertools.pairwise(marks), strict=True):
        line[step] = {
            "cpu_ms": round(1000 * (after[1] - before[1])),
            "wall_ms": round(1000 * (after[0] - before[0])),
            "faults": after[2] - before[2],
        }
    line["total_cpu_ms"] = round(1000 * (marks[-1][1] - marks[0][1]))
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.entra_steps", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a run in this process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.folder)), flush=True)
        return 0
    lines = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-m", "bench.entra_steps", str(args.folder), "--one"],
            capture_output=True,
            text=True,
            check=True,
        )
        lines.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps({**lines[-1], "load_average": round(os.getloadavg()[0], 1)}), flush=True)
    median = {step: statistics.median(line[step]["cpu_ms"] for line in lines) for step in STEPS}
    total = statistics.median(line["total_cpu_ms"] for line in lines)
    print(json.dumps({"median_cpu_ms": median, "median_total_cpu_ms": total}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
