"""Reading ids, names and account states out of raw entries; matching member DNs to entries."""

from __future__ import annotations

import uuid

import pytest

from confluence_provisioning.settings import DisabledRule
from confluence_provisioning.sources.ldap.dn import DnIndex
from confluence_provisioning.sources.ldap.entry_values import Unusable, entry_id, is_disabled, naming_value

GUID = uuid.UUID("0b2f8a62-3c1d-4e5f-8a9b-0c1d2e3f4a5b")


@pytest.mark.parametrize(
    ("attribute", "raw", "expected"),
    [
        ("objectGUID", GUID.bytes_le, str(GUID)),  # AD's byte order: the first three fields little-endian
        ("entryUUID", str(GUID).upper().encode(), str(GUID)),
        ("ipaUniqueID", str(GUID).encode(), str(GUID)),
        ("employeeNumber", b" 10042 ", "10042"),
    ],
)
def test_ids_are_read_per_attribute_kind(attribute: str, raw: bytes, expected: str) -> None:
    assert entry_id(attribute, {attribute: [raw]}) == expected


@pytest.mark.parametrize(
    ("raw_attributes", "reason"),
    [
        ({}, "it has no objectGUID (the id attribute, directory.id_attribute)"),
        ({"objectGUID": [b"a" * 16, b"b" * 16]}, "its id attribute objectGUID has 2 values, not one"),
        ({"objectGUID": [b"short"]}, "its id attribute objectGUID has an unreadable value b'short'"),
    ],
)
def test_an_unusable_guid_says_why(raw_attributes: dict[str, list[bytes]], reason: str) -> None:
    with pytest.raises(Unusable) as raised:
        entry_id("objectGUID", raw_attributes)
    assert str(raised.value) == reason


def test_an_entry_uuid_that_is_not_a_uuid_is_unusable() -> None:
    with pytest.raises(Unusable, match=r"^its id attribute entryUUID has an unreadable value b'not-a-uuid'$"):
        entry_id("entryUUID", {"entryUUID": [b"not-a-uuid"]})


def test_a_login_with_several_values_is_the_rdn_value() -> None:
    dn = "uid=smith\\2Canna,ou=people,dc=example,dc=com"
    assert naming_value(dn, "uid", ["anna", "smith,anna"], "directory.login_attribute") == "smith,anna"
    assert naming_value(dn, "uid", [" solo "], "directory.login_attribute") == "solo"


def test_a_login_with_several_values_and_none_the_rdn_is_unusable() -> None:
    with pytest.raises(Unusable) as raised:
        naming_value("cn=Anna Smith,ou=people,dc=x", "uid", ["anna", "asmith"], "directory.login_attribute")
    assert str(raised.value) == (
        "it has 2 values of uid ('anna', 'asmith') and none is its RDN; keep one value in the directory, "
        "or choose another directory.login_attribute"
    )


def test_a_missing_login_is_unusable() -> None:
    with pytest.raises(Unusable, match=r"^it has no uid \(directory.login_attribute\)$"):
        naming_value("uid=x,dc=x", "uid", ["  "], "directory.login_attribute")


@pytest.mark.parametrize(
    ("rule", "values", "disabled"),
    [
        (DisabledRule(attribute="pwdAccountLockedTime"), ["000001010000Z"], True),
        (DisabledRule(attribute="pwdAccountLockedTime"), None, False),
        (DisabledRule(attribute="userAccountControl", mask=2), ["514"], True),
        (DisabledRule(attribute="userAccountControl", mask=2), ["66048"], False),
        (DisabledRule(attribute="nsAccountLock", equals="TRUE"), ["true"], True),
        (DisabledRule(attribute="nsAccountLock", equals="TRUE"), ["FALSE"], False),
        (DisabledRule(attribute="nsAccountLock", equals="TRUE"), None, False),
    ],
)
def test_disabled_rules(rule: DisabledRule, values: list[str] | None, disabled: bool) -> None:
    assert is_disabled(rule, values) is disabled


def test_a_user_account_control_that_is_not_a_number_is_unusable() -> None:
    with pytest.raises(
        Unusable, match=r"^its account-state value 'x' is not a number \(directory.disabled\)$"
    ):
        is_disabled(DisabledRule(attribute="userAccountControl", mask=2), ["x"])


def test_member_dns_match_entries_whatever_their_case_spacing_and_escaping() -> None:
    index: DnIndex[str] = DnIndex()
    index["uid=smith\\2Canna,ou=people,dc=example,dc=com"] = "anna"
    index["uid=JSmith,ou=people,dc=example,dc=com"] = "john"
    assert index.get("UID=JSmith, OU=People, DC=Example, DC=Com", None) == "john"
    assert index.get("uid=smith\\,anna,ou=people,dc=example,dc=com", None) == "anna"
    assert index.get("uid=smith,ou=people,dc=example,dc=com", None) is None
    assert index.get("not a dn", "missing") == "missing"
