"""Apply a stored plan to a Confluence site, in a process of its own, so that a test can SIGKILL it.

    python -m tests.apply.apply_in_child BASE_URL PLAN_PARQUET MAX_IN_FLIGHT

Credentials come from CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD. Every membership the site
confirmed is printed as ``group<TAB>username`` and flushed at once, so what a killed run had
completed can be read back from its stdout.
"""

from __future__ import annotations

import os
import sys
import threading

import pandas as pd

from confluence_provisioning.apply.applier import apply
from confluence_provisioning.plan.planner import Plan
from confluence_provisioning.targets.confluence_dc import ConfluenceClient
from tests.apply.site import FAST_RETRY, settings


def main(base_url: str, plan_path: str, max_in_flight: int) -> int:
    the_plan = Plan.from_frame(pd.read_parquet(plan_path))
    lock = threading.Lock()

    def on_result(row: dict) -> None:
        if row["operation"] == "add_membership" and row["status"] in ("applied", "already-true"):
            with lock:
                print(f"{row['group']}\t{row['target']}", flush=True)

    client = ConfluenceClient(
        base_url,
        username=os.environ["CONFLUENCE_USERNAME"],
        password=os.environ["CONFLUENCE_PASSWORD"],
        retry=FAST_RETRY,
    )
    with client:
        rules = settings(target={"kind": "confluence_data_center", "max_in_flight": max_in_flight})
        result = apply(the_plan, client, rules, retry=FAST_RETRY, on_result=on_result)
    print(result.summary(), file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
