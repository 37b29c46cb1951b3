"""Confluence Data Center as a ``Target``: the REST client through its hook, and the shared apply engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from confluence_provisioning.apply.applier import ApplyResult, apply_operations
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.plan.operations import Operation
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.base import Capabilities
from confluence_provisioning.targets.confluence_dc.hook import ConfluenceHook
from confluence_provisioning.targets.retry import RetryPolicy

CAPABILITIES = Capabilities(
    delete_users=True,
    delete_groups=True,
    rename_groups=False,
    username_is_email=False,
    matches_users_by_idp_id=False,
)


class ConfluenceDataCenter:
    capabilities = CAPABILITIES

    def __init__(self, settings: Settings, *, dry_run: bool) -> None:
        self._settings = settings
        hook = ConfluenceHook(settings.target.connection_id)
        self._client = hook.get_client(dry_run=dry_run, settings=settings)

    def read(self) -> TargetSnapshot:
        return self._client.snapshot()

    def apply(
        self,
        operations: Sequence[Operation],
        *,
        not_created: Mapping[tuple[str, str], str] | None = None,
        accounts: Mapping[str, str] | None = None,  # unused: the REST API addresses accounts by name
    ) -> ApplyResult:
        retry = RetryPolicy.from_settings(self._settings.target.retry)
        return apply_operations(
            operations, self._client, self._settings, retry=retry, not_created=dict(not_created or {})
        )

    def __enter__(self) -> ConfluenceDataCenter:
        self._client.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client.__exit__(kind, error, trace)


def open_target(settings: Settings, *, dry_run: bool) -> ConfluenceDataCenter:
    return ConfluenceDataCenter(settings, dry_run=dry_run)


def site(settings: Settings) -> str:
    """The site's base URL from its connection, scheme and host lower-cased, no trailing slash."""
    parts = urlsplit(ConfluenceHook(settings.target.connection_id).site_url())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))
