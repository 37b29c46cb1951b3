"""The rules file's `source:` section for Okta (`kind: okta`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator

from confluence_provisioning.settings import Strict


class UserStatus(StrEnum):
    STAGED = "STAGED"
    PROVISIONED = "PROVISIONED"
    ACTIVE = "ACTIVE"
    RECOVERY = "RECOVERY"
    PASSWORD_EXPIRED = "PASSWORD_EXPIRED"
    LOCKED_OUT = "LOCKED_OUT"
    SUSPENDED = "SUSPENDED"
    DEPROVISIONED = "DEPROVISIONED"


# YAML text selects a member (the section is strict otherwise).
Status = Annotated[UserStatus, Field(strict=False)]

# Not yet activated in Okta: such users are not created (a reject says why).
NOT_YET_ACTIVE = frozenset({UserStatus.STAGED, UserStatus.PROVISIONED})
# Never active, whatever the rules say.
NEVER_ACTIVE = frozenset({UserStatus.DEPROVISIONED, *NOT_YET_ACTIVE})
DEFAULT_ACTIVE = [UserStatus.ACTIVE, UserStatus.PASSWORD_EXPIRED, UserStatus.LOCKED_OUT, UserStatus.RECOVERY]


class OktaSourceSettings(Strict):
    kind: Literal["okta"] = "okta"
    connection_id: str = "okta_default"
    # Okta statuses of an active user; any other status (SUSPENDED, DEPROVISIONED, ...) is a
    # disabled one, and STAGED or PROVISIONED users (not yet activated) are not created at all.
    active_statuses: list[Status] = Field(default_factory=lambda: list(DEFAULT_ACTIVE))
    app_groups: bool = False  # also read APP_GROUP groups (imported from AD, LDAP, apps)
    everyone_group: bool = False  # read the built-in Everyone group (every user is a member)
    extra_attributes: list[str] = Field(default_factory=list)  # profile attributes as attr.<name>
    min_users: int = Field(default=1, ge=0)
    page_size: int = Field(default=200, ge=1, le=200)  # users a page (Okta's most)
    group_page_size: int = Field(default=10000, ge=1, le=10000)  # groups a page (Okta's most)
    member_page_size: int = Field(default=1000, ge=1, le=1000)  # members a page
    max_in_flight: int = Field(default=4, ge=1, le=32)  # concurrent requests
    incremental: bool = True  # after a full read, read only what changed since (`lastUpdated`)
    incremental_overlap_seconds: int = Field(default=60, ge=0)  # re-read this much before the cursor
    max_attempts: int = Field(default=6, ge=1)  # per request, for 5xx and connection errors
    budget_seconds: float = Field(default=600.0, gt=0)  # all waiting (retries, rate limits) in one read

    @field_validator("active_statuses")
    @classmethod
    def _active_statuses(cls, statuses: list[UserStatus]) -> list[UserStatus]:
        never = sorted(set(statuses) & NEVER_ACTIVE)
        if never:
            raise ValueError(
                f"{', '.join(never)} can never count as active (STAGED and PROVISIONED users are not "
                "created, DEPROVISIONED ones are disabled): remove them from source.active_statuses"
            )
        if UserStatus.ACTIVE not in statuses:
            raise ValueError("source.active_statuses must include ACTIVE")
        return statuses
