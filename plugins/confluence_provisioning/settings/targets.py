"""The ``target:`` section: which Atlassian site to provision, one settings model per kind.

The legacy ``confluence:`` section is the Data Center form (see ``loading``).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from confluence_provisioning.settings.base import BreakerSettings, RetrySettings, Strict


class NewUserSettings(Strict):
    # False: a random strong password, never logged (for SSO sites); True: Confluence emails the user
    notify_via_email: bool = False


class ConfluenceDcTargetSettings(Strict):
    """Confluence Data Center through its REST API (the legacy ``confluence:`` section)."""

    username_is_email: ClassVar[bool] = False  # usernames come from the users.username rule
    kind: Literal["confluence_data_center"] = "confluence_data_center"
    connection_id: str = "confluence_default"
    max_in_flight: int = Field(default=8, ge=1, le=64)
    page_size: int = Field(default=200, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    new_users: NewUserSettings = Field(default_factory=NewUserSettings)


class AtlassianCloudTargetSettings(Strict):
    """Atlassian Cloud through its SCIM user provisioning API: the connection holds the API base URL,
    the directory id and the directory's API key."""

    username_is_email: ClassVar[bool] = True  # an Atlassian account's username is its email
    kind: Literal["atlassian_cloud"] = "atlassian_cloud"
    connection_id: str = "atlassian_scim_default"
    max_in_flight: int = Field(default=4, ge=1, le=64)
    page_size: int = Field(default=100, ge=1, le=100)  # Atlassian pages at most 100
    # members added or removed by one PATCH /Groups/{id}; Atlassian documents no limit
    member_batch: int = Field(default=100, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)


# the kinds a rules file can name; a new target kind adds its model here
TargetSettings = Annotated[
    ConfluenceDcTargetSettings | AtlassianCloudTargetSettings, Field(discriminator="kind")
]
