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

PHASES = ("extract_idp", "extract_confluence", "map", "plan", "apply", "report")
# phase -> the floor it is measured against
FLOOR_OF = {
    "extract_idp": "ldap3",
    "extract_confluence": "confluence_reads",
    "apply": "confluence_writes",
}
WRITE_METHODS = ("POST", "PUT", "DELETE")


def ratios(phases: dict[str, float], floors: dict[str, float | None]) -> dict[str, float | None]:
    """Each phase's time over its floor's (None when the floor did not run or took no time)."""
    found: dict[str, float | None] = {}
    for phase, floor in FLOOR_OF.items():
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


def command_line(argv: Sequence[str]) -> str:
    return shlex.join([Path(sys.executable).name, "-m", "bench.run", *argv])


def markdown(results: Sequence[dict[str, Any]], argv: Sequence[str]) -> str:
    """A dated section with the machine, the command and one row per scenario."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Run of {when}",
        "",
        f"- Machine: {machine()}",
        f"- Command: `{command_line(argv)}` (from the repository root)",
        "",
        "Seconds per phase, with the floor in brackets and the ratio phase/floor after it.",
        "",
        "| scenario | users | groups | memberships | extract IdP (ldap3 / ldapsearch) | extract Confluence "
        "(GET walk) | map | plan | apply (write loop) | report | total | peak RSS | requests | planned ops |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    lines += [_row(result) for result in results]
    lines += ["", *_per_user(results), ""]
    return "\n".join(lines) + "\n"


def _row(result: dict[str, Any]) -> str:
    phases, floors, size = result["phases"], result["floors"], result["size"]
    ldap_floors = f"{_seconds(floors.get('ldap3'))} / {_seconds(floors.get('ldapsearch'))}"
    idp = f"{phases['extract_idp']:.1f} ({ldap_floors}) x{_ratio(result, 'extract_idp')}"
    confluence = (
        f"{phases['extract_confluence']:.1f} ({_seconds(floors.get('confluence_reads'))})"
        f" x{_ratio(result, 'extract_confluence')}"
    )
    apply = f"{phases['apply']:.1f} ({_seconds(floors.get('confluence_writes'))}) x{_ratio(result, 'apply')}"
    requests = ", ".join(f"{method} {count}" for method, count in sorted(result["http_requests"].items()))
    cells = [
        result["scenario"],
        f"{size['users']:,}",
        f"{size['groups']:,}",
        f"{size['memberships']:,}",
        idp,
        confluence,
        f"{phases['map']:.1f}",
        f"{phases['plan']:.1f}",
        apply,
        f"{phases['report']:.1f}",
        f"**{result['total_seconds']:.1f}**",
        f"{result['peak_rss_bytes'] / 1024**2:,.0f} MiB",
        requests or "none",
        f"{result['planned_operations']:,}",
    ]
    return "| " + " | ".join(cells) + " |"


def _per_user(results: Sequence[dict[str, Any]]) -> list[str]:
    """Time and memory per user of every run, so linear growth shows at a glance."""
    lines = [
        "| scenario | users | ms per user (total) | KiB per user (peak RSS) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for result in results:
        users = result["size"]["users"]
        lines.append(
            f"| {result['scenario']} | {users:,} | {1000 * result['total_seconds'] / users:.3f} | "
            f"{result['peak_rss_bytes'] / 1024 / users:.1f} |"
        )
    return lines


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(result: dict[str, Any], phase: str) -> str:
    value = result["ratios"].get(f"{phase}/{FLOOR_OF[phase]}")
    return "-" if value is None else f"{value:.2f}"
