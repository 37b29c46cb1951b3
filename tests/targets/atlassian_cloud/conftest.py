"""Clients of the Cloud emulator for the SCIM client's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.retry import RetryPolicy
from sandbox.atlassian_cloud import CloudEmulatorServer

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0, budget_seconds=30)


def client_of(server: CloudEmulatorServer, **options: Any) -> ScimClient:
    options.setdefault("retry", FAST_RETRY)
    return ScimClient(server.base_url, token=server.config.token, **options)


@pytest.fixture
def scim(cloud: CloudEmulatorServer) -> Iterator[ScimClient]:
    with client_of(cloud) as client:
        yield client


def counters(server: CloudEmulatorServer) -> dict[str, Any]:
    return httpx.get(f"{server.admin_url}/counters").json()


def clear_counters(server: CloudEmulatorServer) -> None:
    httpx.delete(f"{server.admin_url}/counters")


Factory = Callable[..., CloudEmulatorServer]
