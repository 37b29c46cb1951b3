"""The write requests a plan makes, as the applier would send them, for the bare write loop.

They are recorded by the real applier with a dry-run client (the client's one
choke point for writes), so the floor sends exactly the pipeline's requests.
Dry run keeps no passwords: new users get a throwaway one, as the applier does.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pandas as pd

from bench.floors.confluence import WriteRequest
from confluence_provisioning.apply.applier import apply
from confluence_provisioning.plan.planner import Plan
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.confluence_dc import ConfluenceClient, RetryPolicy

CREATE_USER = ("POST", "/rest/api/admin/user")


def plan_writes(plan_file: Path, settings: Settings) -> list[WriteRequest]:
    plan = Plan.from_frame(pd.read_parquet(plan_file))
    with ConfluenceClient("http://dry-run.invalid", username="bench", dry_run=True) as client:
        recorded = apply(
            plan, client, settings, retry=RetryPolicy.from_settings(settings.target.retry)
        ).recorded
    return [
        WriteRequest(request.method, request.path, _with_password(request.method, request.path, request.json))
        for request in recorded
    ]


def _with_password(method: str, path: str, body: dict[str, object] | None) -> dict[str, object] | None:
    if (method, path) == CREATE_USER and body is not None and body.get("notifyViaEmail") is False:
        return {**body, "password": secrets.token_urlsafe(24)}
    return body
