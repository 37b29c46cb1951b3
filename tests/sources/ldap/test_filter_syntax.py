"""LDAP filter syntax (RFC 4515) as ``validate`` checks it: what passes and what is refused, and where."""

from __future__ import annotations

import pytest

from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources.ldap.filter_syntax import filter_problem
from confluence_provisioning.sources.ldap.flavours import resolve_profile

VALID = [
    "(uid=*)",
    "(cn=a*b*c)",
    "(uid~=jon)",
    "(uidNumber>=1000)",
    "(!(nsAccountLock=TRUE))",
    "(cn;lang-en=x)",
    "(2.5.4.3=x)",
    "(uid:caseExactMatch:=JSmith)",
    "(:dn:2.5.13.5:=x)",
    "(cn=a\\28b\\29)",
    "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_filters_pass(text: str) -> None:
    assert filter_problem(text) is None


@pytest.mark.parametrize("flavour", ["openldap", "active_directory", "freeipa"])
def test_every_flavour_default_passes(flavour: str) -> None:
    profile = resolve_profile(LdapSourceSettings(flavour=flavour))
    assert (filter_problem(profile.user_filter), filter_problem(profile.group_filter)) == (None, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("(&(a=1)", "the '(' at character 1 has no matching ')'"),
        ("(a=1))", "text after the end of the filter at character 6"),
        ("((a=1))", "'(' inside a value at character 2 (write it as \\28)"),
        ("()", "an empty filter '()' at character 1"),
        ("(&)", "'&' at character 2 must be followed by (filters)"),
        ("(=x)", "'=x' at character 2 is not attribute=value"),
        ("(a b=x)", "'a b=x' at character 2 is not attribute=value"),
        ("(:dn:=x)", "':dn:=x' at character 2 is not attribute=value"),
        ("(cn=x\\zz)", "'\\' at character 6 is not followed by two hex digits"),
        ("(uid>=a*)", "'*' in a >= value at character 8 (write it as \\2a)"),
    ],
)
def test_broken_filters_say_what_and_where(text: str, problem: str) -> None:
    assert f"is not a valid LDAP filter: {problem}" in (filter_problem(text) or "")
