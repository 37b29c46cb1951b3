"""python -m bench.generate_directory: a seeded company directory of any size, and its Confluence states.

Writes into --out:
  directory.ldif             people, service accounts and nested groups, for slapadd
                             (python -m sandbox.openldap --ldif directory.ldif serves it)
  confluence-in-sync.json    the emulator state the pipeline leaves for this directory
                             with bench/rules.yaml ("already in sync": a run plans nothing)
  confluence-drifted.json    the same for the directory a day earlier (1% changed,
                             0.5% left, 0.5% joined, memberships moved)
  manifest.json              the arguments and what each file holds
The same arguments always give the same files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.company import CompanySize, add_size_arguments
from bench.dataset import RULES, Dataset, Start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate_directory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_size_arguments(parser)
    parser.add_argument(
        "--seed", type=int, default=1, help="the same seed gives the same company (default 1)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into (created if missing)")
    parser.add_argument("--rules", type=Path, default=RULES, help="rules file the states are made with")
    args = parser.parse_args(argv)
    size = CompanySize(args.users, args.groups, args.memberships)
    try:
        dataset = Dataset(size, args.seed, args.out, args.rules)
        started = time.perf_counter()
        files = {
            "ldif": dataset.ldif.name,
            "in_sync": dataset.state(Start.in_sync).name,
            "drifted": dataset.state(Start.drifted).name,
        }
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    manifest = {
        "size": asdict(size),
        "seed": args.seed,
        "rules": str(args.rules),
        "files": files,
        "directory": asdict(dataset.idp_counts),
        "confluence": {start.value: asdict(dataset.confluence_counts(start)) for start in Start},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({**manifest, "seconds": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
