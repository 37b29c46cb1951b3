"""python -m bench.cloud_patch: what one group membership PATCH costs the Atlassian Cloud emulator,
by directory size.

    python -m bench.cloud_patch [--users 5000,25000,100000] [--groups 40] [--batch 5] [--out bench/out]

For each size, the emulator (``python -m sandbox.atlassian_cloud``, its own process) starts from the
churn scenario's SCIM directory (``bench.dag_runs.cloud_state``: yesterday's company as a first run
left it, the state ``python -m bench.dag_runs --scenario churn --target cloud`` starts from; built once
under ``--out``). Then, one request at a time over one keep-alive connection: for ``--groups`` groups
drawn at random (seeded) and for the largest group, a ``PATCH`` adding ``--batch`` users who are not
members, and one removing them again in Atlassian's form (so the directory ends as it started). Each
reply is the whole group (200, as Atlassian answers). Prints one JSON line a size and a table: wall
milliseconds a PATCH and the emulator's CPU milliseconds a PATCH, for the drawn groups (their median
size) and for the largest.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.cloud import DIRECTORY, TOKEN, CloudEmulatorProcess
from bench.dag_runs import cloud_rules, cloud_state
from bench.dataset import Dataset, Start
from bench.scenarios import SCENARIOS

BENCH = Path(__file__).resolve().parent
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def churn_directory(users: int, seed: int, out: Path) -> Path:
    """The churn scenario's starting SCIM directory at ``users`` users (as ``bench.dag_runs`` builds it)."""
    size = SCENARIOS["churn"].scaled(users).size
    folder = out / "data" / f"{size.users}u-{size.groups}g-{size.memberships}m-seed{seed}"
    dataset = Dataset(size, seed, folder)
    return cloud_state(Dataset(size, seed, folder, rules=cloud_rules(dataset)), Start.drifted)


@dataclass(frozen=True)
class GroupPatches:
    """Two PATCHes on one group that leave it as it was: ``ops`` in order, with the member count each
    reply must show."""

    group_id: str
    size: int
    users: list[str]
    ops: tuple[tuple[str, int], tuple[str, int]]
    largest: bool


def workload(state: dict[str, Any], groups: int, batch: int, seed: int) -> list[GroupPatches]:
    """``groups`` groups drawn with ``seed``, and the largest: ``batch`` non-members added and removed
    again, or in a group every user is in (the largest), ``batch`` members removed and added back."""
    rng = random.Random(seed)
    users = [user["id"] for user in state["Users"]]
    largest = max(state["Groups"], key=lambda group: len(group.get("members", [])))
    drawn = rng.sample([group for group in state["Groups"] if group is not largest], groups)
    work = []
    for group in [*drawn, largest]:
        members = [member["value"] for member in group.get("members", [])]
        present = set(members)
        outsiders = [user for user in users if user not in present]
        size = len(members)
        if len(outsiders) >= batch:
            chosen, ops = rng.sample(outsiders, batch), (("add", size + batch), ("remove", size))
        else:
            chosen, ops = rng.sample(members, batch), (("remove", size - batch), ("add", size))
        work.append(GroupPatches(group["id"], size, chosen, ops, group is largest))
    return work


def measure(port: int, pid: int, work: list[GroupPatches]) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
    process = psutil.Process(pid)
    rows: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
    for patches in work:
        for op, members_after in patches.ops:
            value = [{"value": user} for user in patches.users]
            body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": op, "path": "members", "value": value}]}
            cpu, started = sum(process.cpu_times()[:2]), time.perf_counter()
            connection.request(
                "PATCH", f"/scim/directory/{DIRECTORY}/Groups/{patches.group_id}", json.dumps(body), headers
            )
            response = connection.getresponse()
            reply = json.loads(response.read())
            wall, cpu = time.perf_counter() - started, sum(process.cpu_times()[:2]) - cpu
            if response.status != 200 or len(reply.get("members", [])) != members_after:
                raise RuntimeError(f"PATCH {op} on {patches.group_id}: {response.status} {str(reply)[:300]}")
            rows[patches.largest].append((wall, cpu, patches.size))
    connection.close()

    def summary(measured: list[tuple[float, float, int]]) -> dict[str, float]:
        return {
            "patches": len(measured),
            "median_group_size": statistics.median(size for _, _, size in measured),
            "ms_per_patch": round(1000 * statistics.fmean(wall for wall, _, _ in measured), 1),
            "emulator_cpu_ms_per_patch": round(1000 * statistics.fmean(cpu for _, cpu, _ in measured), 1),
        }

    return {"drawn": summary(rows[False]), "largest": summary(rows[True])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cloud_patch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", default="5000,25000,100000", help="comma-separated directory sizes")
    parser.add_argument("--groups", type=int, default=40, help="groups drawn at random a size")
    parser.add_argument("--batch", type=int, default=5, help="members added, then removed, a PATCH")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="working folder (default bench/out)")
    args = parser.parse_args(argv)
    lines = [
        "| users | groups drawn (median members) | ms a PATCH | emulator CPU ms a PATCH "
        "| largest group (members) | ms a PATCH | emulator CPU ms a PATCH | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for users in (int(value) for value in args.users.split(",")):
        path = churn_directory(users, args.seed, args.out)
        work = workload(json.loads(path.read_text(encoding="utf-8")), args.groups, args.batch, args.seed)
        emulator = CloudEmulatorProcess(path, args.out / "cloud-patch-emulator.log")
        try:
            load = os.getloadavg()[0]
            result = {"users": users, **measure(emulator.port, emulator.pid, work), "load_average": load}
        finally:
            emulator.stop()
        print(json.dumps(result), flush=True)
        drawn, largest = result["drawn"], result["largest"]
        lines.append(
            f"| {users:,} | {drawn['patches'] // 2} ({drawn['median_group_size']:,.0f}) "
            f"| {drawn['ms_per_patch']} | {drawn['emulator_cpu_ms_per_patch']} "
            f"| 1 ({largest['median_group_size']:,.0f}) | {largest['ms_per_patch']} "
            f"| {largest['emulator_cpu_ms_per_patch']} | {load:.1f} |"
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
