"""The rules file as typed settings: one model per section.

Every section is optional and has safe defaults; unknown keys are errors (a typo must never be
silently ignored). ``loading.load_settings`` builds them from YAML; the annotated example is
``include/mapping_rules/default.yaml``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator

from confluence_provisioning.mapping.patterns import REPLACE_HINT, PatternError, compile_rewrite
from confluence_provisioning.settings.base import ConfluenceGroup, DnText, Name, Regex, Strict
from confluence_provisioning.settings.sources import LdapSourceSettings, SourceSettings
from confluence_provisioning.settings.targets import ConfluenceDcTargetSettings, TargetSettings


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

    pattern: Regex
    replace: str

    @field_validator("replace")
    @classmethod
    def _replace_fits_pattern(cls, replace: str, info: ValidationInfo) -> str:
        if "pattern" in info.data:  # a pattern that failed is reported on its own
            try:
                compile_rewrite(info.data["pattern"], replace)
            except PatternError as error:
                raise ValueError(f"{error}; {REPLACE_HINT}") from None
        return replace


class AttributeRule(Strict):
    """How one Confluence field is made from an IdP attribute: read, lower-case, then rewrite in order."""

    # None: the field's own column (login, email, display_name); else one of those
    # columns or an attribute listed in directory.extra_attributes
    attribute: str | None = None
    lowercase: bool = False
    rewrites: list[Rewrite] = Field(default_factory=list)


class UserScope(Strict):
    """A user matches when any listed condition matches (groups, DN subtrees, attribute patterns)."""

    groups: list[Name] = Field(default_factory=list)  # IdP group names (cn), nested membership counts
    dn_subtrees: list[DnText] = Field(default_factory=list)
    # attribute -> regular expression; the attribute is a users-frame column or an extra_attribute
    attributes: dict[str, Regex] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.groups or self.dn_subtrees or self.attributes)


class UserRules(Strict):
    operations: UserOperations = Field(default_factory=UserOperations)
    out_of_scope: OutOfScopeAction = Field(default=OutOfScopeAction.disable, strict=False)
    include: UserScope | None = None  # None: every IdP user is in scope
    exclude: UserScope = Field(default_factory=UserScope)
    username: AttributeRule = Field(default_factory=lambda: AttributeRule(lowercase=True))
    display_name: AttributeRule = Field(default_factory=AttributeRule)
    email: AttributeRule = Field(default_factory=lambda: AttributeRule(lowercase=True))


class DefaultGroups(Strict):
    new_users: list[ConfluenceGroup] = Field(default_factory=list)
    all_users: list[ConfluenceGroup] = Field(default_factory=list)


class GroupMapping(Strict):
    """Manual mapping: one Confluence group from one or more IdP groups."""

    confluence_group: ConfluenceGroup
    idp_groups: list[Name] = Field(min_length=1)
    keep_existing_members: bool = True


class ManualMapping(Strict):
    mappings: list[GroupMapping] = Field(default_factory=list)
    import_unmapped: bool = False  # also import IdP groups no mapping names (same name)
    # regular expressions on the lower-cased names of the IdP groups import_unmapped imports
    include: list[Regex] = Field(default_factory=list)
    exclude: list[Regex] = Field(default_factory=list)


class OnTheFlyMapping(Strict):
    enabled: bool = False
    # regular expressions on lower-cased IdP group names, before the rewrites
    include: list[Regex] = Field(default_factory=list)
    exclude: list[Regex] = Field(default_factory=list)
    rewrites: list[Rewrite] = Field(default_factory=list)
    # False: map an IdP group only onto a Confluence group that already exists
    create_missing: bool = True
    # False: on-the-fly groups are pruned (members the IdP group does not have are removed)
    keep_existing_groups: bool = True


class GroupRules(Strict):
    default_groups: DefaultGroups = Field(default_factory=DefaultGroups)
    manual: ManualMapping = Field(default_factory=ManualMapping)
    on_the_fly: OnTheFlyMapping = Field(default_factory=OnTheFlyMapping)


class Protected(Strict):
    """Never created, changed, disabled or deleted by a sync. Names are compared ignoring case."""

    users: list[Name] = Field(default_factory=lambda: ["admin"])
    groups: list[Name] = Field(default_factory=lambda: ["confluence-administrators", "system-administrators"])


class Limits(Strict):
    """Safety guards: a plan over any of these fails before anything is written."""

    max_users_disabled_or_deleted: int = Field(default=50, ge=0)
    max_users_disabled_or_deleted_percent: float = Field(default=5.0, ge=0, le=100)
    max_membership_removals: int = Field(default=500, ge=0)
    max_group_deletions: int = Field(default=0, ge=0)
    allow_emptying_groups: bool = False


class ApprovalMode(StrEnum):
    """When a run waits for a person's approval in the Airflow UI before it writes."""

    on_risk = "on_risk"  # the first real run against a site, and a plan that breaks a guard
    always = "always"  # every real run with something to write
    never = "never"  # unattended: a broken guard fails the run (allow_over_limits passes it once)


class RunSettings(Strict):
    """How the DAG runs this sync."""

    approval: ApprovalMode = Field(default=ApprovalMode.on_risk, strict=False)
    # how long the approve task waits; no answer counts as a rejection (read when the DAG file is parsed)
    approval_timeout_hours: float = Field(default=24.0, gt=0)
    log_changes: int = Field(default=1000, ge=0)  # changes the plan task logs; the rest are in a file

    schedule: str | None = "0 2 * * *"  # cron; an Airflow Variable may override it
    storage_base: str | None = None  # ObjectStoragePath URI; None: file:// under AIRFLOW_HOME
    keep_run_folders_days: int = Field(default=14, ge=1)
    audit_connection_id: str = "confluence_provisioning_audit"
    # operations per mapped apply task: smaller chunks retry less work, more chunks cost scheduling
    apply_chunk_size: int = Field(default=5000, ge=1)
    # Airflow retries of the tasks that talk to LDAP, Confluence or storage (exponential backoff
    # from the delay); taken from the DAG's default rules file when the DAG file is parsed
    task_retries: int = Field(default=2, ge=0, le=10)
    task_retry_delay_seconds: float = Field(default=60.0, ge=0)
    # one sync at a time per target site: a run's lease lapses this long after its last renewal
    # (a killed worker, an audit store down at the end of a run), so it never blocks for long
    lease_expiry_minutes: float = Field(default=15.0, gt=0)


class Settings(Strict):
    source: SourceSettings = Field(default_factory=LdapSourceSettings)
    users: UserRules = Field(default_factory=UserRules)
    groups: GroupRules = Field(default_factory=GroupRules)
    protected: Protected = Field(default_factory=Protected)
    limits: Limits = Field(default_factory=Limits)
    target: TargetSettings = Field(default_factory=ConfluenceDcTargetSettings)
    run: RunSettings = Field(default_factory=RunSettings)
