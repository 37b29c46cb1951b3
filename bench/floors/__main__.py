"""python -m bench.floors SPEC.json RESULT.json FLOOR...: measure floors in a fresh process.

A fresh process, like the pipeline's: the runner's own process holds the whole
generated company, whose millions of objects would make every garbage
collection in a floor slower than in the pipeline, and the floor unfairly high.

SPEC.json is the pipeline's spec (the same LDAP, Confluence and rules), with
``plan_file`` added for the write floors. RESULT.json gets, per floor, its wall
``seconds`` and the ``cpu`` seconds of this process and of the servers.
"""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path

from bench.floors.suite import measure
from bench.spec import PipelineSpec


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        print("usage: python -m bench.floors SPEC.json RESULT.json FLOOR...", file=sys.stderr)
        return 2
    raw = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    plan_file = raw.pop("plan_file", None)
    spec = PipelineSpec(
        **{field.name: raw[field.name] for field in fields(PipelineSpec) if field.name in raw}
    )
    result = measure(spec, args[2:], Path(plan_file) if plan_file else None)
    Path(args[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
