"""Rules file (YAML) -> validated, typed settings.

``base``: the strict model and checked value types; ``sources`` and ``targets``: the
``source:`` and ``target:`` sections, one model per kind; ``models``: every other section
and ``Settings``; ``checks``: contradictions between options; ``loading``: ``load_settings``,
with every mistake reported as FILE:LINE.
"""

from confluence_provisioning.settings.base import BreakerSettings, RetrySettings, Strict
from confluence_provisioning.settings.loading import Mistake, RulesError, load_settings
from confluence_provisioning.settings.models import (
    ApprovalMode,
    AttributeRule,
    DefaultGroups,
    GroupMapping,
    GroupRules,
    Limits,
    ManualMapping,
    OnTheFlyMapping,
    OutOfScopeAction,
    Protected,
    Rewrite,
    RunSettings,
    Settings,
    UserOperations,
    UserRules,
    UserScope,
)
from confluence_provisioning.settings.sources import (
    DisabledRule,
    EntraSourceSettings,
    Flavour,
    LdapSourceSettings,
    OktaSourceSettings,
    SourceSettings,
)
from confluence_provisioning.settings.targets import (
    AtlassianCloudTargetSettings,
    ConfluenceDcTargetSettings,
    NewUserSettings,
    TargetSettings,
)

__all__ = [
    "ApprovalMode",
    "AtlassianCloudTargetSettings",
    "AttributeRule",
    "BreakerSettings",
    "ConfluenceDcTargetSettings",
    "DefaultGroups",
    "DisabledRule",
    "EntraSourceSettings",
    "Flavour",
    "GroupMapping",
    "GroupRules",
    "LdapSourceSettings",
    "Limits",
    "ManualMapping",
    "Mistake",
    "NewUserSettings",
    "OktaSourceSettings",
    "OnTheFlyMapping",
    "OutOfScopeAction",
    "Protected",
    "RetrySettings",
    "Rewrite",
    "RulesError",
    "RunSettings",
    "Settings",
    "SourceSettings",
    "Strict",
    "TargetSettings",
    "UserOperations",
    "UserRules",
    "UserScope",
    "load_settings",
]
