"""Directory flavours: each flavour's defaults, and the rules' settings laid over them."""

from __future__ import annotations

from confluence_provisioning.settings import DisabledRule, Flavour, LdapSourceSettings
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile, resolve_profile


def test_freeipa_defaults() -> None:
    assert resolve_profile(LdapSourceSettings(flavour=Flavour.freeipa)) == DirectoryProfile(
        flavour=Flavour.freeipa,
        user_base_dn=None,
        user_base_rdn="cn=users,cn=accounts",
        group_base_dn=None,
        group_base_rdn="cn=groups,cn=accounts",
        user_filter="(objectClass=inetOrgPerson)",
        group_filter="(objectClass=ipaUserGroup)",
        id_attribute="ipaUniqueID",
        login_attribute="uid",
        email_attribute="mail",
        display_name_attribute="displayName",
        display_name_fallback="cn",
        group_name_attribute="cn",
        member_attributes=("member",),
        disabled=DisabledRule(attribute="nsAccountLock", equals="TRUE"),
        primary_group=False,
        extra_attributes=(),
        nested_groups=True,
        page_size=500,
        min_users=1,
    )


def test_openldap_and_active_directory_defaults() -> None:
    openldap = resolve_profile(LdapSourceSettings())
    assert (openldap.id_attribute, openldap.login_attribute, openldap.member_attributes) == (
        "entryUUID",
        "uid",
        ("member", "uniqueMember", "memberUid"),
    )
    assert openldap.disabled == DisabledRule(attribute="pwdAccountLockedTime")
    assert (openldap.user_base_rdn, openldap.primary_group) == (None, False)
    ad = resolve_profile(LdapSourceSettings(flavour=Flavour.active_directory))
    assert (ad.id_attribute, ad.login_attribute, ad.member_attributes, ad.primary_group) == (
        "objectGUID",
        "sAMAccountName",
        ("member",),
        True,
    )
    assert ad.user_filter == "(&(objectCategory=person)(objectClass=user))"
    assert ad.disabled == DisabledRule(attribute="userAccountControl", mask=2)


def test_every_setting_overrides_its_default() -> None:
    settings = LdapSourceSettings(
        flavour=Flavour.freeipa,
        user_base_dn="ou=staff,dc=example,dc=org",
        user_filter="(employeeType=staff)",
        group_base_dn="ou=teams,dc=example,dc=org",
        group_filter="(objectClass=groupOfNames)",
        id_attribute="nsUniqueId",
        login_attribute="mail",
        email_attribute="otherMailbox",
        display_name_attribute="cn",
        member_attributes=["uniqueMember"],
        group_name_attribute="ou",
        disabled=DisabledRule(attribute="employeeType", equals="left"),
        extra_attributes=["departmentNumber"],
        nested_groups=False,
        page_size=200,
        min_users=10,
    )
    profile = resolve_profile(settings)
    assert profile == DirectoryProfile(
        flavour=Flavour.freeipa,
        user_base_dn="ou=staff,dc=example,dc=org",
        user_base_rdn="cn=users,cn=accounts",  # used only when user_base_dn is None
        group_base_dn="ou=teams,dc=example,dc=org",
        group_base_rdn="cn=groups,cn=accounts",
        user_filter="(employeeType=staff)",
        group_filter="(objectClass=groupOfNames)",
        id_attribute="nsUniqueId",
        login_attribute="mail",
        email_attribute="otherMailbox",
        display_name_attribute="cn",
        display_name_fallback="cn",
        group_name_attribute="ou",
        member_attributes=("uniqueMember",),
        disabled=DisabledRule(attribute="employeeType", equals="left"),
        primary_group=False,
        extra_attributes=("departmentNumber",),
        nested_groups=False,
        page_size=200,
        min_users=10,
    )


def test_the_connection_page_size_caps_the_rules_page_size() -> None:
    assert resolve_profile(LdapSourceSettings(page_size=800), page_size_cap=300).page_size == 300
    assert resolve_profile(LdapSourceSettings(page_size=200), page_size_cap=300).page_size == 200
