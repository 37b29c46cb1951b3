"""Reading the Okta emulator: a client for a server, and reads that return state and frames."""

from __future__ import annotations

from typing import Any

from confluence_provisioning.settings.sources import OktaSourceSettings
from confluence_provisioning.sources.okta import reading
from confluence_provisioning.sources.okta.auth import ApiToken
from confluence_provisioning.sources.okta.client import OktaClient
from confluence_provisioning.targets.retry import RetryPolicy
from sandbox.okta import OktaServer


def client(server: OktaServer, token: str | None = None, **options: Any) -> OktaClient:
    return OktaClient(server.base_url, ApiToken(token or server.token), **options)


def settings(**values: Any) -> OktaSourceSettings:
    return OktaSourceSettings(**{"incremental_overlap_seconds": 0, **values})


def read(server: OktaServer, rules: OktaSourceSettings, **options: Any) -> reading.OktaState:
    with client(server, **options) as okta:
        return reading.read_full(okta, rules)[0]


def quick_policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=3, budget_seconds=30, base_delay=0.01, max_delay=0.05)
