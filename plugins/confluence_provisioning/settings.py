"""Rules file (YAML) -> validated, typed settings.

One rules file describes one sync. Every section is optional and has safe
defaults; unknown keys are errors (a typo must never be silently ignored).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base of every section: unknown keys are refused, values are not coerced across types."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


class DirectorySettings(Strict):
    """Where and how to read the identity provider. ``None`` means the flavour's default."""

    flavour: Flavour = Flavour.openldap
    connection_id: str = "ldap_default"
    user_base_dn: str | None = None
    user_filter: str | None = None
    group_base_dn: str | None = None
    group_filter: str | None = None
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


class OutOfScopeAction(StrEnum):
    disable = "disable"
    delete = "delete"
    keep = "keep"


class UserOperations(Strict):
    create: bool = True
    update: bool = True
    disable: bool = True
    reenable: bool = True
    delete: bool = False


class Rewrite(Strict):
    """A regular-expression rewrite; ``replace`` may use back-references (\\1)."""

    pattern: str
    replace: str


class AttributeRule(Strict):
    """How one Confluence field is made from an IdP attribute."""

    attribute: str | None = None  # None: the directory's login/email/display-name attribute
    lowercase: bool = False
    rewrites: list[Rewrite] = Field(default_factory=list)


class UserScope(Strict):
    """A user matches when any listed condition matches (groups, DN subtrees, attribute patterns)."""

    groups: list[str] = Field(default_factory=list)  # IdP group names (cn), nested membership counts
    dn_subtrees: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)  # attribute -> regular expression


class UserRules(Strict):
    operations: UserOperations = Field(default_factory=UserOperations)
    out_of_scope: OutOfScopeAction = OutOfScopeAction.disable
    include: UserScope | None = None  # None: every IdP user is in scope
    exclude: UserScope = Field(default_factory=UserScope)
    username: AttributeRule = Field(default_factory=lambda: AttributeRule(lowercase=True))
    display_name: AttributeRule = Field(default_factory=AttributeRule)
    email: AttributeRule = Field(default_factory=lambda: AttributeRule(lowercase=True))


class DefaultGroups(Strict):
    new_users: list[str] = Field(default_factory=list)
    all_users: list[str] = Field(default_factory=list)


class GroupMapping(Strict):
    """Manual mapping: one Confluence group from one or more IdP groups."""

    confluence_group: str
    idp_groups: list[str] = Field(min_length=1)
    keep_existing_members: bool = True


class ManualMapping(Strict):
    mappings: list[GroupMapping] = Field(default_factory=list)
    import_unmapped: bool = False  # also import IdP groups no mapping names (same name)
    include: list[str] = Field(default_factory=list)  # regular expressions on IdP group names
    exclude: list[str] = Field(default_factory=list)


class OnTheFlyMapping(Strict):
    enabled: bool = False
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    rewrites: list[Rewrite] = Field(default_factory=list)
    create_missing: bool = True
    keep_existing_groups: bool = True


class GroupRules(Strict):
    default_groups: DefaultGroups = Field(default_factory=DefaultGroups)
    manual: ManualMapping = Field(default_factory=ManualMapping)
    on_the_fly: OnTheFlyMapping = Field(default_factory=OnTheFlyMapping)


class Protected(Strict):
    """Never created, changed, disabled or deleted by a sync."""

    users: list[str] = Field(default_factory=lambda: ["admin"])
    groups: list[str] = Field(
        default_factory=lambda: ["confluence-administrators", "system-administrators"]
    )


class Limits(Strict):
    """Safety guards: a plan over any of these fails before anything is written."""

    max_users_disabled_or_deleted: int = Field(default=50, ge=0)
    max_users_disabled_or_deleted_percent: float = Field(default=5.0, ge=0, le=100)
    max_membership_removals: int = Field(default=500, ge=0)
    max_group_deletions: int = Field(default=0, ge=0)
    allow_emptying_groups: bool = False


class RetrySettings(Strict):
    max_attempts: int = Field(default=6, ge=1)
    base_delay_seconds: float = Field(default=0.5, ge=0)
    max_delay_seconds: float = Field(default=30.0, ge=0)
    budget_seconds: float = Field(default=600.0, ge=0)
    # a server's Retry-After is honoured up to this many seconds (a broken header must not stall a run)
    retry_after_cap_seconds: float = Field(default=120.0, ge=0)


class NewUserSettings(Strict):
    # False: a random strong password, never logged (for SSO sites); True: Confluence emails the user
    notify_via_email: bool = False


class ConfluenceSettings(Strict):
    connection_id: str = "confluence_default"
    max_in_flight: int = Field(default=8, ge=1, le=64)
    page_size: int = Field(default=200, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    new_users: NewUserSettings = Field(default_factory=NewUserSettings)


class RunSettings(Strict):
    """How the DAG runs this sync."""

    schedule: str | None = "0 2 * * *"  # cron; an Airflow Variable may override it
    storage_base: str | None = None  # ObjectStoragePath URI; None: file:// under AIRFLOW_HOME
    keep_run_folders_days: int = Field(default=14, ge=1)
    audit_connection_id: str = "confluence_provisioning_audit"


class Settings(Strict):
    directory: DirectorySettings = Field(default_factory=DirectorySettings)
    users: UserRules = Field(default_factory=UserRules)
    groups: GroupRules = Field(default_factory=GroupRules)
    protected: Protected = Field(default_factory=Protected)
    limits: Limits = Field(default_factory=Limits)
    confluence: ConfluenceSettings = Field(default_factory=ConfluenceSettings)
    run: RunSettings = Field(default_factory=RunSettings)


def load_settings(path: str | Path) -> Settings:
    """Settings from a rules file. (Line-numbered, all-at-once errors: see issue 4.)"""
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    return Settings.model_validate(yaml.safe_load(text) or {})
