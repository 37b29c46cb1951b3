"""Apply a stored plan to a target site, in a process of its own, so that a test can SIGKILL it.

    python -m tests.apply.apply_in_child KIND BASE_URL PLAN_PARQUET MAX_IN_FLIGHT

KIND is ``confluence_data_center`` (credentials from CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD)
or ``atlassian_cloud`` (BASE_URL the SCIM base, the API key from SCIM_TOKEN). Every operation the
site confirmed is printed as ``operation<TAB>target<TAB>group`` (group empty when none) and flushed
at once, so what a killed run had completed can be read back from its stdout.
"""

from __future__ import annotations

import os
import sys
import threading

import pandas as pd

from confluence_provisioning.apply.applier import Performer, apply
from confluence_provisioning.plan.planner import Plan
from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.atlassian_cloud.performer import CloudPerformer
from confluence_provisioning.targets.confluence_dc import ConfluenceClient
from tests.apply.site import FAST_RETRY, settings


def main(kind: str, base_url: str, plan_path: str, max_in_flight: int) -> int:
    the_plan = Plan.from_frame(pd.read_parquet(plan_path))
    lock = threading.Lock()

    def on_result(row: dict) -> None:
        if row["status"] in ("applied", "already-true"):
            with lock:
                print(f"{row['operation']}\t{row['target']}\t{row['group'] or ''}", flush=True)

    client: ConfluenceClient | ScimClient
    if kind == "atlassian_cloud":
        client = ScimClient(base_url, token=os.environ["SCIM_TOKEN"], retry=FAST_RETRY)
    else:
        client = ConfluenceClient(
            base_url,
            username=os.environ["CONFLUENCE_USERNAME"],
            password=os.environ["CONFLUENCE_PASSWORD"],
            retry=FAST_RETRY,
        )
    with client:
        rules = settings(target={"kind": kind, "max_in_flight": max_in_flight})
        target: ConfluenceClient | Performer = (
            CloudPerformer(client) if isinstance(client, ScimClient) else client
        )
        result = apply(the_plan, target, rules, retry=FAST_RETRY, on_result=on_result)
    print(result.summary(), file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
