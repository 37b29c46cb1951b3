"""canonical_dn gives every spelling of a DN one form; escape_rdn_value builds RFC 4514 values."""

import pytest

from sandbox.openldap.dn import canonical_dn, escape_rdn_value


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("UID=JSmith, OU=People, DC=Example, DC=Com", "uid=jsmith,ou=people,dc=example,dc=com"),
        ("uid=corp\\5Cbwilson,ou=people", "uid=corp\\\\bwilson,ou=people"),
        ("uid=smith\\2Canna,ou=people", "uid=smith\\,anna,ou=people"),
        ("uid=\\22tbrown\\22,ou=people", 'uid=\\"tbrown\\",ou=people'),
        ('uid=\\"tbrown\\",ou=people', 'uid="tbrown",ou=people'),
        ("uid=\\3Cscript\\3E,ou=people", "uid=\\<script\\>,ou=people"),
        ("uid=zo\\C3\\AB,ou=people", "uid=zoë,ou=people"),
        ("uid=alice\\2Badmin,ou=people", "uid=alice\\+admin,ou=people"),
        ("cn=x+uid=a,o=b", "UID=a + CN=x, o=b"),
        ("uid=mary jane,ou=people", "uid = mary jane , ou = people"),
    ],
)
def test_spellings_of_one_dn_are_equal(one: str, other: str) -> None:
    assert canonical_dn(one) == canonical_dn(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("uid=smith\\,anna,ou=people", "uid=smith,uid=anna,ou=people"),
        ("uid=alice\\+admin,ou=people", "uid=alice+admin,ou=people"),
        ("cn=a\\ ,o=x", "cn=a,o=x"),
    ],
)
def test_different_dns_stay_different(one: str, other: str) -> None:
    assert canonical_dn(one) != canonical_dn(other)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("corp\\bwilson", "corp\\\\bwilson"),
        ('a,b+c"d<e>f;g', 'a\\,b\\+c\\"d\\<e\\>f\\;g'),
        ("#tag", "\\#tag"),
        (" padded ", "\\ padded\\ "),
        ("mary jane", "mary jane"),
        ("a=b", "a=b"),
    ],
)
def test_escape_rdn_value(value: str, escaped: str) -> None:
    assert escape_rdn_value(value) == escaped
