"""The ``source:`` section: which identity provider to read, one settings model per kind.

Each kind names its Airflow connection and its own keys beside ``kind``. Every kind has
``extra_attributes`` (the user attributes scope and naming rules may use) and ``min_users``
(fail closed when the directory looks empty). The legacy ``directory:`` section is the LDAP
form (see ``loading``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from confluence_provisioning.settings.base import RetrySettings, Strict
from confluence_provisioning.sources.ldap.filter_syntax import filter_problem


def _is_ldap_filter(text: str) -> str:
    if problem := filter_problem(text):
        raise ValueError(problem)
    return text


LdapFilter = Annotated[str, AfterValidator(_is_ldap_filter)]  # RFC 4515 syntax, checked by validate


class Flavour(StrEnum):
    openldap = "openldap"
    active_directory = "active_directory"
    freeipa = "freeipa"


class DisabledRule(Strict):
    """How a disabled account is recognised from one attribute.

    With ``mask`` the account is disabled when the integer value has any of its bits set
    (Active Directory: ``userAccountControl``, mask 2); with ``equals`` when a value equals
    it, ignoring case (FreeIPA: ``nsAccountLock``, ``TRUE``); with neither when the
    attribute is present at all (OpenLDAP ppolicy: ``pwdAccountLockedTime``).
    """

    attribute: str
    mask: int | None = Field(default=None, ge=1)
    equals: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> DisabledRule:
        if self.mask is not None and self.equals is not None:
            raise ValueError("give either mask or equals, not both")
        return self


class LdapSourceSettings(Strict):
    """Where and how to read an LDAP directory. ``None`` means the flavour's default."""

    kind: Literal["ldap"] = "ldap"
    flavour: Flavour = Field(default=Flavour.openldap, strict=False)
    connection_id: str = "ldap_default"
    user_base_dn: str | None = None
    user_filter: LdapFilter | None = None
    group_base_dn: str | None = None
    group_filter: LdapFilter | None = None
    id_attribute: str | None = None
    login_attribute: str | None = None
    email_attribute: str | None = None
    display_name_attribute: str | None = None
    member_attributes: list[str] | None = None
    group_name_attribute: str | None = None  # the group's name (cn, or sAMAccountName on AD)
    disabled: DisabledRule | None = None  # how a disabled account is recognised
    # extra user attributes to read (for scoping rules and rewrites)
    extra_attributes: list[str] = Field(default_factory=list)
    nested_groups: bool = True
    page_size: int = Field(default=500, ge=1, le=1000)
    # fail closed when the directory looks empty: fewer users than this is an error
    min_users: int = Field(default=1, ge=0)


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
    """Where and how to read an Okta org (see sources/okta/reading.py)."""

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


class EntraSourceSettings(Strict):
    """Microsoft Entra ID through Microsoft Graph (connection: see ``sources.entra.hook``)."""

    kind: Literal["entra_id"] = "entra_id"
    connection_id: str = "entra_default"
    # the user property that is the login (the username rule reads it): userPrincipalName, or e.g.
    # onPremisesSamAccountName in a tenant synced from Active Directory, mailNickname, mail
    login_attribute: str = "userPrincipalName"
    email_attribute: str = "mail"
    display_name_attribute: str = "displayName"
    # extra user properties to read (for scoping rules and rewrites), e.g. department, employeeId
    extra_attributes: list[str] = Field(default_factory=list)
    include_guests: bool = False  # guest accounts (userType Guest) are read only when true
    # memberships: "direct" reads each group's direct members and flattens nesting here (and is
    # what delta queries keep up to date); "transitive" asks Graph for every group's
    # transitiveMembers (no incremental reads)
    memberships: Literal["direct", "transitive"] = "direct"
    nested_groups: bool = True  # with "direct": members of nested groups count
    incremental: bool = True  # after a full read, read only the changes (delta queries)
    page_size: int = Field(default=999, ge=1, le=999)  # Graph's largest page
    batch_size: int = Field(default=20, ge=1, le=20)  # member reads in one JSON $batch
    min_users: int = Field(default=1, ge=0)
    # transient answers (429, 5xx, dropped connections): attempts and time budget of one request
    retry: RetrySettings = Field(default_factory=RetrySettings)


def _source_kind(value: object) -> str:
    """The kind of a source section; LDAP when it names none (the legacy ``directory:`` form)."""
    if isinstance(value, dict):
        return str(value.get("kind", "ldap"))
    return str(getattr(value, "kind", "ldap"))


# the kinds a rules file can name; a new source kind adds its model here
SourceSettings = Annotated[
    Annotated[LdapSourceSettings, Tag("ldap")]
    | Annotated[OktaSourceSettings, Tag("okta")]
    | Annotated[EntraSourceSettings, Tag("entra_id")],
    Discriminator(_source_kind),
]
