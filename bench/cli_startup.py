"""How much a console command costs before it does anything: CPU seconds per run, best of N.

    python -m bench.cli_startup [--tree DIR] [--repeat N]

CPU time (user + system, from the children's rusage), not wall time: it is what the
command itself spends, whatever else the machine is doing. ``--tree`` names a checkout
(default: this one), so an older commit can be measured from a ``git archive`` of it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

from sandbox.airflow_env import REPO

COMMANDS = {
    "python (nothing imported)": ["-c", "pass"],
    "--version": ["-m", "confluence_provisioning.cli", "--version"],
    "validate": ["-m", "confluence_provisioning.cli", "validate", "include/mapping_rules/default.yaml"],
    "preview --ldif": [
        "-m",
        "confluence_provisioning.cli",
        "preview",
        "--rules",
        "include/mapping_rules/default.yaml",
        "--ldif",
        "sandbox/directories/example.ldif",
    ],
}


def cpu_seconds(tree: Path, arguments: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "plugins")])}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, *arguments], cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    for name, arguments in COMMANDS.items():
        best = min(cpu_seconds(args.tree.resolve(), arguments) for _ in range(args.repeat))
        print(f"{name:28} {best:6.2f} CPU s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
