"""python -m bench.run: run benchmark scenarios, print one JSON line each, append a table to RESULTS.md.

Scenarios (bench/scenarios.py):
  initial  a fresh Confluence site, 20,000 users / 500 groups / ~200,000 memberships
  noop     100,000 / 5,000 / ~1,000,000, Confluence already in sync
  churn    the same, Confluence as synced yesterday (1% renamed, 0.5% left, 0.5% joined, moves)
  scale    noop at 25,000, 50,000 and 100,000 users
  cloud    the Atlassian Cloud target at 100,000 / 5,000 / 1,000,000 (bench/cloud.py): its read
           against a bare paged GET walk of its emulator, noop plan, churn plan and apply, with
           CPU seconds (this process, the emulator), requests and the load average
  all      initial, scale, churn and cloud

Each scenario runs the pipeline in a fresh process against slapd and the
Confluence emulator (each its own process), and measures the floors on the
same data: ldapsearch and bare ldap3 for the LDAP reads, a bare GET walk for
the Confluence reads, a bare write loop of the same requests for apply.
Progress goes to stderr; stdout carries only the JSON lines.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bench import cloud
from bench.dataset import SUFFIX, Dataset
from bench.results import markdown
from bench.runner import run_scenario
from bench.scenarios import CHOICES, Scenario, cloud_size, selected
from bench.services import EmulatorProcess
from sandbox.openldap import OpenLdapSandbox

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=CHOICES, default="all")
    parser.add_argument(
        "--users", type=int, help="run the scenario at this many users (groups and memberships in proportion)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="working folder (default bench/out)")
    parser.add_argument("--no-floors", action="store_true", help="measure the pipeline only")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample every thread of each phase into runs/<scenario>/profile-<phase>.txt",
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="append the table here (default bench/RESULTS.md)"
    )
    parser.add_argument("--no-results", action="store_true", help="print the JSON lines only")
    args = parser.parse_args(args_list)
    try:
        scenarios = selected(args.scenario, args.users)
    except ValueError as error:
        parser.error(str(error))
    cloud_at = cloud_size(args.scenario, args.users)

    args.out.mkdir(parents=True, exist_ok=True)
    # The library logs every dry-run request the write floor records; stdout is for results only.
    logging.getLogger("confluence_provisioning").setLevel(logging.WARNING)
    results = []
    if scenarios:
        results = _pipeline_scenarios(scenarios, args)
    cloud_results = None
    if cloud_at is not None:
        _progress(
            f"cloud: {cloud_at.users} users, {cloud_at.groups} groups, {cloud_at.memberships} memberships"
        )
        cloud_results = cloud.run(cloud_at.users, cloud_at.groups, cloud_at.memberships)
        print(json.dumps(cloud_results), flush=True)
    if not args.no_results:
        with args.results.open("a", encoding="utf-8") as table:
            if results:
                table.write("\n" + markdown(results, args_list))
            if cloud_results is not None:
                table.write("\n" + cloud.markdown(cloud_results, args_list))
        _progress(f"appended the table to {args.results}")
    return 0


def _pipeline_scenarios(scenarios: list[Scenario], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The LDAP-to-Data Center pipeline scenarios, each printed as its JSON line when done."""
    results = []
    with EmulatorProcess(args.out / "emulator.log") as emulator:
        for size, same_size in itertools.groupby(scenarios, key=lambda scenario: scenario.size):
            name = f"{size.users}u-{size.groups}g-{size.memberships}m-seed{args.seed}"
            dataset = Dataset(size, args.seed, args.out / "data" / name)
            _progress(f"{name}: generating the directory")
            ldif = dataset.ldif
            _progress(f"{name}: loading it into slapd")
            with OpenLdapSandbox([ldif], suffix=SUFFIX) as ldap:
                for scenario in same_size:
                    _progress(f"{name}: scenario {scenario.name}")
                    result = run_scenario(
                        scenario,
                        dataset,
                        ldap,
                        emulator,
                        args.out / "runs" / f"{scenario.name}-{size.users}u",
                        floors=not args.no_floors,
                        profile=args.profile,
                    )
                    print(json.dumps(result), flush=True)
                    results.append(result)
    return results


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
