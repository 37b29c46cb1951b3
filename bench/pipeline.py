"""python -m bench.pipeline SPEC.json: one run of the pipeline, in-process, every phase timed.

The runner starts this in a fresh process per scenario so that the peak
resident memory it reports (``ru_maxrss``) is this run's alone. The phases are
the DAG's tasks, called as the library functions they wrap, one after the
other so each is timed alone: extract IdP, extract Confluence, map, plan,
apply, report. The result is one JSON object on stdout; the plan is written as
Parquet for the write floor.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from confluence_provisioning.confluence import ConfluenceClient, RetryPolicy
from confluence_provisioning.idp.connecting import LdapOptions, open_connection
from confluence_provisioning.idp.flavours import resolve_profile
from confluence_provisioning.idp.snapshot import extract
from confluence_provisioning.mapping import map_rules
from confluence_provisioning.planning import plan
from confluence_provisioning.settings import Settings, load_settings

from bench.floors.timing import stopwatch
from bench.results import PHASES


@dataclass(frozen=True)
class PipelineSpec:
    ldap_uri: str
    ldap_bind_dn: str
    ldap_password: str
    confluence_url: str
    confluence_user: str
    confluence_password: str
    rules: str
    out: str  # folder for the plan and the report

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> PipelineSpec:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def ldap_options(spec: PipelineSpec) -> LdapOptions:
    parts = urlsplit(spec.ldap_uri)
    return LdapOptions(
        conn_id="bench",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 389,
        bind_dn=spec.ldap_bind_dn,
        password=spec.ldap_password,
    )


def confluence_client(spec: PipelineSpec, settings: Settings) -> ConfluenceClient:
    """The client the DAG's hook would build from the rules' ``confluence`` section."""
    return ConfluenceClient(
        spec.confluence_url,
        username=spec.confluence_user,
        password=spec.confluence_password,
        max_in_flight=settings.confluence.max_in_flight,
        page_size=settings.confluence.page_size,
        retry=RetryPolicy.from_settings(settings.confluence.retry),
    )


def run(spec: PipelineSpec) -> dict[str, Any]:
    settings = load_settings(spec.rules)
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    with stopwatch(phases, "extract_idp"):
        connection = open_connection(ldap_options(spec))
        try:
            idp = extract(connection, resolve_profile(settings.directory))
        finally:
            connection.unbind()
    with confluence_client(spec, settings) as client:
        with stopwatch(phases, "extract_confluence"):
            current = client.snapshot()
        with stopwatch(phases, "map"):
            desired = map_rules(idp, settings)
        with stopwatch(phases, "plan"):
            the_plan = plan(desired, current, settings)
        with stopwatch(phases, "apply"):
            pass
        with stopwatch(phases, "report"):
            pass
    total = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    plan_file = out / "plan.parquet"
    the_plan.to_frame().to_parquet(plan_file)
    return {
        "phases": {phase: round(phases[phase], 3) for phase in PHASES},
        "total_seconds": round(total, 3),
        "peak_rss_bytes": peak_rss,
        "planned_operations": len(the_plan),
        "plan": the_plan.summary(),
        "plan_file": str(plan_file),
        "idp_rejects": len(idp.rejects),
        "mapping_rejects": len(desired.rejects),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.pipeline SPEC.json", file=sys.stderr)
        return 2
    print(json.dumps(run(PipelineSpec.read(Path(args[0])))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
