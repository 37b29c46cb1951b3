"""Scenario results: the JSON line each scenario prints, and the table appended to RESULTS.md."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PHASES = ("extract_source", "extract_target", "map", "plan", "apply", "report")
# phase -> (the floor it is held to, the floor shown beside it): the first is the least a
# Python client can pay (bare ldap3, raw http.client); the second shows what the C tool
# costs (ldapsearch) or what the HTTP library the client uses costs by itself (requests).
FLOORS_OF = {
    "extract_source": ("ldap3", "ldapsearch"),
    "extract_target": ("confluence_reads", "confluence_reads_requests"),
    "apply": ("confluence_writes", "confluence_writes_requests"),
}
FLOOR_OF = {phase: floors[0] for phase, floors in FLOORS_OF.items()}
WRITE_METHODS = ("POST", "PUT", "DELETE")


def ratios(phases: dict[str, float], floors: dict[str, float | None]) -> dict[str, float | None]:
    """Each phase's time over its floor's (None when the floor did not run or took no time)."""
    found: dict[str, float | None] = {}
    for phase, names in FLOORS_OF.items():
        for floor in names:
            base = floors.get(floor)
            found[f"{phase}/{floor}"] = round(phases[phase] / base, 2) if base else None
    return found


def writes(requests_by_method: dict[str, int]) -> int:
    return sum(requests_by_method.get(method, 0) for method in WRITE_METHODS)


def machine() -> str:
    """CPU model, cores, memory, OS and Python: what a reader needs to compare numbers."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def command_line(argv: Sequence[str], module: str = "bench.run") -> str:
    return shlex.join([Path(sys.executable).name, "-m", module, *argv])


def markdown(results: Sequence[dict[str, Any]], argv: Sequence[str]) -> str:
    """A dated section with the machine, the command and one row per scenario."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Run of {when}",
        "",
        f"- Machine: {machine()}",
        f"- Command: `{command_line(argv)}` (from the repository root)",
        "",
        "Seconds per phase; in brackets the floors (bare ldap3 / ldapsearch; raw http.client / requests "
        "session), then the ratio of the phase to the first floor.",
        "",
        "| scenario | users | groups | memberships | extract IdP | extract Confluence | map | plan | apply | "
        "report | total | peak RSS | requests | planned ops |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    lines += [_row(result) for result in results]
    lines += ["", *_per_user(results), ""]
    return "\n".join(lines) + "\n"


def _row(result: dict[str, Any]) -> str:
    phases, size = result["phases"], result["size"]
    requests = ", ".join(f"{method} {count}" for method, count in sorted(result["http_requests"].items()))
    cells = [
        result["scenario"],
        f"{size['users']:,}",
        f"{size['groups']:,}",
        f"{size['memberships']:,}",
        _against_floors(result, "extract_source"),
        _against_floors(result, "extract_target"),
        f"{phases['map']:.1f}",
        f"{phases['plan']:.1f}",
        _against_floors(result, "apply"),
        f"{phases['report']:.1f}",
        f"**{result['total_seconds']:.1f}**",
        f"{result['peak_rss_bytes'] / 1024**2:,.0f} MiB",
        requests or "none",
        f"{result['planned_operations']:,}",
    ]
    return "| " + " | ".join(cells) + " |"


def _against_floors(result: dict[str, Any], phase: str) -> str:
    """``18.6 (11.6 / 14.0) x1.60``: the phase, its two floors, and the ratio to the first."""
    held_to, beside = FLOORS_OF[phase]
    floors = result["floors"]
    ratio = result["ratios"].get(f"{phase}/{held_to}")
    times = f"{_seconds(floors.get(held_to))} / {_seconds(floors.get(beside))}"
    return f"{result['phases'][phase]:.1f} ({times}) x{'-' if ratio is None else f'{ratio:.2f}'}"


def _per_user(results: Sequence[dict[str, Any]]) -> list[str]:
    """Time and memory per user of every run, so linear growth shows at a glance; checks; machine load.

    Memory per user leaves out what the process holds before it reads anything
    (the interpreter and the libraries), which does not grow with the directory.
    """
    lines = [
        "| scenario | users | ms per user (total) | KiB per user (peak RSS above the imports) | imports "
        "| checks | load average (1 min) |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for result in results:
        users = result["size"]["users"]
        grown = result["peak_rss_bytes"] - result["baseline_rss_bytes"]
        lines.append(
            f"| {result['scenario']} | {users:,} | {1000 * result['total_seconds'] / users:.3f} | "
            f"{grown / 1024 / users:.1f} | {result['baseline_rss_bytes'] / 1024**2:,.0f} MiB | "
            f"{_checks(result['checks'])} | {result['load_average'][0]:.1f} |"
        )
    return lines


def _checks(checks: dict[str, bool]) -> str:
    failed = [name.replace("_", " ") for name, ok in checks.items() if not ok]
    return "all passed" if not failed else "FAILED: " + ", ".join(failed)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
