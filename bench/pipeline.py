"""python -m bench.pipeline SPEC.json RESULT.json: one run of the DAG's task bodies, every phase timed.

The runner starts this in a fresh process per scenario, so the peak resident
memory it reports (VmHWM) is this run's alone. The phases are the DAG's
tasks (``pipeline.tasks``, ``pipeline.recording``) called one after the other
with a hand-made run context, so each is timed alone and no scheduler is
involved: extract IdP, extract Confluence, map, plan, apply (every chunk of
every stage, in stage order), report. They hand each other Parquet files in a
run folder under AIRFLOW_HOME, and read their connections from
``AIRFLOW_CONN_*`` variables, exactly as in the DAG. The result is written as
one JSON object to RESULT.json; stdout and stderr carry the tasks' logs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.measure import Meter, process_age
from bench.results import PHASES
from bench.sampler import Sampler
from bench.spec import PipelineSpec, connection_environment
from confluence_provisioning.pipeline import recording, tasks
from confluence_provisioning.pipeline.context import RunContext, RunParams
from confluence_provisioning.pipeline.plan_files import STAGE_TASKS
from confluence_provisioning.settings import load_settings
from confluence_provisioning.sources.ldap.connecting import LdapOptions

DAG_ID = "confluence_provisioning"


def ldap_options(spec: PipelineSpec) -> LdapOptions:
    parts = urlsplit(spec.ldap_uri)
    return LdapOptions(
        conn_id="bench",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 389,
        bind_dn=spec.ldap_bind_dn,
        password=spec.ldap_password,
    )


def run(spec: PipelineSpec) -> dict[str, Any]:
    startup = process_age()  # the interpreter and the library's imports, which every task pays too
    baseline_rss = peak_rss()  # what the imports hold before any data: the per-user share excludes it
    rules = Path(spec.rules)
    shutil.rmtree(spec.out, ignore_errors=True)
    Path(spec.out).mkdir(parents=True)
    meter = Meter(spec.watched)

    peak_rss_by_phase: dict[str, int] = {}

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        with meter.measure(name):
            if spec.profile:
                sampler = Sampler()
                with sampler.sampling():
                    yield
                sampler.write(Path(spec.out).parent / f"profile-{name}.txt", name)
            else:
                yield
        peak_rss_by_phase[name] = peak_rss()

    settings = load_settings(rules)
    os.environ.update(
        connection_environment(spec, settings.source.connection_id, settings.target.connection_id)
    )
    now = datetime.now(UTC)
    context = RunContext(
        dag_id=DAG_ID,
        dag_run_id=f"bench__{now:%Y%m%dT%H%M%S}",
        run_after=now,
        started_at=now,
        rules_dir=rules.parent,
        params=RunParams(rules_file=rules.name),
    )
    with phase("extract_source"):
        source = tasks.extract_source(context)
    with phase("extract_target"):
        target = tasks.extract_target(context)
    with phase("map"):
        desired = tasks.map_rules(context, source, target)
    with phase("plan"):
        planned = tasks.plan(context, desired, target)
    failed = 0
    with phase("apply"):
        for stage_task in STAGE_TASKS.values():
            if not planned["chunks"][stage_task]:
                continue  # the DAG's plan skips it
            counts = tasks.apply_stage(context, stage_task)
            failed += sum(by_status.get("failed", 0) for by_status in counts.values())
    with phase("report"):
        recording.report(context)
    report = meter.report(PHASES)
    # the peak resident memory by the end of each phase: which phase raised it
    peaks = {phase: peak_rss_by_phase[phase] for phase in PHASES}
    return {
        "phases": {phase: values["seconds"] for phase, values in report.items()},
        "cpu": {phase: values["cpu"] for phase, values in report.items()},
        "total_seconds": round(sum(meter.seconds[phase] for phase in PHASES), 3),
        "startup_seconds": round(startup, 3),
        "peak_rss_bytes": peak_rss(),
        "peak_rss_by_phase": peaks,
        "baseline_rss_bytes": baseline_rss,
        "planned_operations": planned["operations"],
        "plan": planned["summary"],
        "plan_file": urlsplit(str(context.folder / "plan" / "plan.parquet")).path,
        "failed_operations": failed,
    }


def peak_rss() -> int:
    """This process's peak resident memory so far, in bytes: VmHWM of /proc/self/status.

    Not ``ru_maxrss``: Linux carries that over an exec, so a child started from a
    large parent reports the parent's peak until it outgrows it.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.pipeline SPEC.json RESULT.json", file=sys.stderr)
        return 2
    result = run(PipelineSpec.read(Path(args[0])))
    Path(args[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
