"""The ``source:`` section: which identity provider to read, one settings model per kind.

Each kind names its Airflow connection and its own keys beside ``kind``. Every kind has
``extra_attributes`` (the user attributes scope and naming rules may use) and ``min_users``
(fail closed when the directory looks empty). The legacy ``directory:`` section is the LDAP
form (see ``loading``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from confluence_provisioning.settings.base import Strict
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


# the kinds a rules file can name; a new source kind adds its model here
SourceSettings = LdapSourceSettings
