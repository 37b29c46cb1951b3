"""Asks a real Airflow API app (in this process) what the connection form and the Test button get.

Run as ``python -m tests.provider.api_probe`` with the JSON request on stdin:
``{"tests": [ConnectionBody, ...]}``; prints ``{"hook_meta": [...], "tests": [answers]}``.
The environment must name a migrated Airflow home and enable connection tests.
"""

from __future__ import annotations

import json
import sys

from airflow.api_fastapi.app import create_app
from fastapi.testclient import TestClient


def main() -> None:
    request = json.load(sys.stdin)
    with TestClient(create_app()) as client:
        meta = client.get("/ui/connections/hook_meta")
        meta.raise_for_status()
        answers = []
        for body in request["tests"]:
            answer = client.post("/api/v2/connections/test", json=body)
            answers.append({"http_status": answer.status_code, **answer.json()})
    json.dump({"hook_meta": meta.json(), "tests": answers}, sys.stdout)


if __name__ == "__main__":
    main()
