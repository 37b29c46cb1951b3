"""Atlassian Cloud as a ``Target``: the SCIM client through its hook, and the shared apply engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType

from confluence_provisioning.apply.applier import ApplyResult, apply_operations
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.plan.operations import Operation
from confluence_provisioning.settings import AtlassianCloudTargetSettings, Settings
from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.atlassian_cloud.performer import CloudPerformer
from confluence_provisioning.targets.atlassian_cloud.snapshot import to_snapshot
from confluence_provisioning.targets.base import Capabilities
from confluence_provisioning.targets.retry import RetryPolicy

CAPABILITIES = Capabilities(
    delete_users=False,
    delete_groups=True,
    rename_groups=False,
    username_is_email=True,
    matches_users_by_idp_id=True,
)


class AtlassianCloud:
    capabilities = CAPABILITIES

    def __init__(self, settings: Settings, client: ScimClient, verified_domains: frozenset[str]) -> None:
        self._settings = settings
        self._client = client
        self._performer = CloudPerformer(client, verified_domains)

    def read(self) -> TargetSnapshot:
        return to_snapshot(self._client.users(), self._client.groups())

    def apply(
        self,
        operations: Sequence[Operation],
        *,
        not_created: Mapping[tuple[str, str], str] | None = None,
        accounts: Mapping[str, str] | None = None,
    ) -> ApplyResult:
        self._performer.ids.know_users(accounts or {})
        retry = RetryPolicy.from_settings(self._settings.target.retry)
        return apply_operations(
            operations, self._performer, self._settings, retry=retry, not_created=dict(not_created or {})
        )

    def __enter__(self) -> AtlassianCloud:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client.close()


def open_target(settings: Settings, *, dry_run: bool) -> AtlassianCloud:
    from confluence_provisioning.targets.atlassian_cloud.hook import AtlassianScimHook  # Airflow, only here

    target = settings.target
    assert isinstance(target, AtlassianCloudTargetSettings)
    client, domains = AtlassianScimHook(target.connection_id).get_client(dry_run=dry_run, settings=target)
    return AtlassianCloud(settings, client, domains)


def site(settings: Settings) -> str:
    from confluence_provisioning.targets.atlassian_cloud.hook import AtlassianScimHook  # Airflow, only here

    return AtlassianScimHook(settings.target.connection_id).site_url()
