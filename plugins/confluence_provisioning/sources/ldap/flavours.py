"""Directory flavours: what OpenLDAP, Active Directory and FreeIPA look like by default.

`resolve_profile` lays the rules' ``directory`` settings over the flavour's
defaults, so the rest of the extraction reads one complete `DirectoryProfile`
and never asks "was this set?".
"""

from __future__ import annotations

from dataclasses import dataclass

from confluence_provisioning.settings import DisabledRule, Flavour, LdapSourceSettings


@dataclass(frozen=True)
class FlavourDefaults:
    # Relative to the naming context; None searches the whole naming context.
    user_base_rdn: str | None
    group_base_rdn: str | None
    user_filter: str
    group_filter: str
    id_attribute: str
    login_attribute: str
    email_attribute: str
    display_name_attribute: str
    group_name_attribute: str
    member_attributes: tuple[str, ...]
    disabled: DisabledRule
    # Read when an entry has no display-name attribute: every person entry has a cn.
    display_name_fallback: str = "cn"
    # Active Directory leaves a user's primary group (e.g. Domain Users) out of `member`.
    primary_group: bool = False


FLAVOURS: dict[Flavour, FlavourDefaults] = {
    Flavour.openldap: FlavourDefaults(
        user_base_rdn=None,
        group_base_rdn=None,
        user_filter="(objectClass=inetOrgPerson)",
        group_filter="(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))",
        id_attribute="entryUUID",
        login_attribute="uid",
        email_attribute="mail",
        display_name_attribute="displayName",
        group_name_attribute="cn",
        member_attributes=("member", "uniqueMember", "memberUid"),
        disabled=DisabledRule(attribute="pwdAccountLockedTime"),
    ),
    Flavour.active_directory: FlavourDefaults(
        user_base_rdn=None,
        group_base_rdn=None,
        # objectCategory=person leaves out computer accounts, which are objectClass=user too.
        user_filter="(&(objectCategory=person)(objectClass=user))",
        group_filter="(objectClass=group)",
        id_attribute="objectGUID",
        login_attribute="sAMAccountName",
        email_attribute="mail",
        display_name_attribute="displayName",
        group_name_attribute="cn",
        member_attributes=("member",),
        disabled=DisabledRule(attribute="userAccountControl", mask=0x2),  # ACCOUNTDISABLE
        primary_group=True,
    ),
    Flavour.freeipa: FlavourDefaults(
        user_base_rdn="cn=users,cn=accounts",
        group_base_rdn="cn=groups,cn=accounts",
        user_filter="(objectClass=inetOrgPerson)",
        group_filter="(objectClass=ipaUserGroup)",
        id_attribute="ipaUniqueID",
        login_attribute="uid",
        email_attribute="mail",
        display_name_attribute="displayName",
        group_name_attribute="cn",
        member_attributes=("member",),
        disabled=DisabledRule(attribute="nsAccountLock", equals="TRUE"),
    ),
}


@dataclass(frozen=True)
class DirectoryProfile:
    """Everything the extraction needs to know about the directory, defaults filled in."""

    flavour: Flavour
    user_base_dn: str | None  # None: every naming context of the server (see root_dse.py)
    user_base_rdn: str | None  # used under each naming context when user_base_dn is None
    group_base_dn: str | None
    group_base_rdn: str | None
    user_filter: str
    group_filter: str
    id_attribute: str
    login_attribute: str
    email_attribute: str
    display_name_attribute: str
    display_name_fallback: str
    group_name_attribute: str
    member_attributes: tuple[str, ...]
    disabled: DisabledRule
    primary_group: bool
    extra_attributes: tuple[str, ...]
    nested_groups: bool
    page_size: int
    min_users: int


def resolve_profile(settings: LdapSourceSettings, page_size_cap: int | None = None) -> DirectoryProfile:
    """The flavour's defaults with every setting the rules give laid over them.

    ``page_size_cap`` is the connection's ``page_size`` extra: the server's limit wins
    over the rules' wish when it is smaller.
    """
    defaults = FLAVOURS[settings.flavour]
    page_size = settings.page_size if page_size_cap is None else min(settings.page_size, page_size_cap)
    member_attributes = settings.member_attributes
    return DirectoryProfile(
        flavour=settings.flavour,
        user_base_dn=settings.user_base_dn,
        user_base_rdn=defaults.user_base_rdn,
        group_base_dn=settings.group_base_dn,
        group_base_rdn=defaults.group_base_rdn,
        user_filter=settings.user_filter or defaults.user_filter,
        group_filter=settings.group_filter or defaults.group_filter,
        id_attribute=settings.id_attribute or defaults.id_attribute,
        login_attribute=settings.login_attribute or defaults.login_attribute,
        email_attribute=settings.email_attribute or defaults.email_attribute,
        display_name_attribute=settings.display_name_attribute or defaults.display_name_attribute,
        display_name_fallback=defaults.display_name_fallback,
        group_name_attribute=settings.group_name_attribute or defaults.group_name_attribute,
        member_attributes=tuple(member_attributes)
        if member_attributes is not None
        else defaults.member_attributes,
        disabled=settings.disabled or defaults.disabled,
        primary_group=defaults.primary_group,
        extra_attributes=tuple(settings.extra_attributes),
        nested_groups=settings.nested_groups,
        page_size=page_size,
        min_users=settings.min_users,
    )
