"""The ``target:`` section: which Atlassian site to provision, one settings model per kind.

The legacy ``confluence:`` section is the Data Center form (see ``loading``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from confluence_provisioning.settings.base import BreakerSettings, RetrySettings, Strict


class NewUserSettings(Strict):
    # False: a random strong password, never logged (for SSO sites); True: Confluence emails the user
    notify_via_email: bool = False


class ConfluenceDcTargetSettings(Strict):
    """Confluence Data Center through its REST API (the legacy ``confluence:`` section)."""

    kind: Literal["confluence_data_center"] = "confluence_data_center"
    connection_id: str = "confluence_default"
    max_in_flight: int = Field(default=8, ge=1, le=64)
    page_size: int = Field(default=200, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    new_users: NewUserSettings = Field(default_factory=NewUserSettings)


# the kinds a rules file can name; a new target kind adds its model here
TargetSettings = ConfluenceDcTargetSettings
