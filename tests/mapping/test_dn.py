"""DN keys: LDAP's comparison (RDN by RDN, ignoring case and spacing), one by one and vectorised alike."""

from __future__ import annotations

import pandas as pd
import pytest

from confluence_provisioning.mapping.dn import DnError, dn_key, dn_keys, in_subtree, parent_key

DNS = [
    "uid=a,OU=People, dc=example,dc=com",
    " uid = Mary  Jane , ou=people;dc=example,dc=com ",
    "uid=smith\\,anna,ou=people,dc=example,dc=com",
    "uid=smith\\2Canna,ou=people,dc=example,dc=com",
    "uid=corp\\\\bwilson,ou=people,dc=example,dc=com",
    "uid=zo\\C3\\AB,ou=people,dc=example,dc=com",
    "uid=Zoë,ou=people,dc=example,dc=com",
    "cn=a+sn=b,dc=example,dc=com",
    "sn=B+cn=A,dc=example,dc=com",
    "cn=a=b,dc=example,dc=com",
    "cn=Équipe Paris,ou=groups,dc=example,dc=com",
]


def test_equal_dns_have_equal_keys() -> None:
    keys = [dn_key(dn) for dn in DNS]
    assert keys[2] == keys[3]  # \, and \2C
    assert keys[5] == keys[6]  # UTF-8 escapes and the letter, ignoring case
    assert keys[7] == keys[8]  # a multi-valued RDN in either order
    assert keys[0] == "uid=a\x00ou=people\x00dc=example\x00dc=com"
    assert keys[1] == "uid=mary jane\x00ou=people\x00dc=example\x00dc=com"


def test_the_vectorised_keys_are_the_one_by_one_keys() -> None:
    column = pd.Series([*DNS, None, "", "uid=a,,dc=com"], dtype="string")
    expected = [dn_key(dn) for dn in DNS] + [None, None, None]
    assert [None if pd.isna(key) else key for key in dn_keys(column)] == expected


@pytest.mark.parametrize("text", ["", "dc=example,,dc=com", "example", "uid=a\\q,dc=com"])
def test_text_that_is_not_a_dn_is_refused(text: str) -> None:
    with pytest.raises(DnError):
        dn_key(text)


def test_subtree_membership_is_by_whole_rdns() -> None:
    keys = dn_keys(
        pd.Series(
            [
                "ou=people,dc=example,dc=com",
                "uid=a,ou=people,dc=example,dc=com",
                "uid=b,ou=x,ou=people,dc=example,dc=com",
                "uid=c,ou=otherpeople,dc=example,dc=com",
                "uid=d,ou=x-ou=people,dc=example,dc=com",
            ],
            dtype="string",
        )
    )
    assert in_subtree(keys, dn_key("OU=People,DC=Example,DC=Com")).tolist() == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_parent_key() -> None:
    assert parent_key(dn_key("uid=a,ou=people,dc=com")) == dn_key("ou=people,dc=com")
    assert parent_key(dn_key("dc=com")) is None
