"""An LDIF test directory (``sandbox.directories.model``) as the Entra tenant that holds the same people.

The mapping is the table in README.md beside this file (keep the two in step).

``domain`` is the suffix's ``dc`` values joined by dots (``example.com``). Entra would refuse some
of the example's hard-case logins in a user principal name; the mapping keeps them, because the
point is to sync the same people through every source and see the same refusals on the target.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

from sandbox.directories.model import DirectoryModel, User, split_dn
from sandbox.entra.graph import CONTACT, DEVICE, GROUP, SERVICE_PRINCIPAL, USER
from sandbox.openldap.dn import canonical_dn

_NOT_IN_NICKNAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclasses.dataclass
class TenantView:
    """What a tenant should hold: objects by id as (type, properties), and each group's members."""

    objects: dict[str, tuple[str, dict[str, Any]]]
    members: dict[str, dict[str, None]]


def tenant_view(model: DirectoryModel) -> TenantView:
    domain = _domain(model)
    objects: dict[str, tuple[str, dict[str, Any]]] = {}
    for user in model.users.values():
        objects[user.id] = _user_object(user, domain)
    devices: dict[str, str] = {}  # canonical DN -> id
    for key, entry in model.containers.items():
        if "device" in entry.object_classes:
            device_id = str(uuid.uuid5(uuid.NAMESPACE_X500, key))
            devices[key] = device_id
            name = entry.first("cn") or entry.rdn[1]
            objects[device_id] = (
                DEVICE,
                {
                    "displayName": name,
                    "deviceId": device_id,
                    "accountEnabled": True,
                    "operatingSystem": entry.first("description"),
                },
            )
    members: dict[str, dict[str, None]] = {}
    by_uid = model.uid_index()
    for group in model.groups.values():
        unified = group.kind == "groupofuniquenames"
        nickname = _NOT_IN_NICKNAME.sub("", group.name) or group.id[:8]
        objects[group.id] = (
            GROUP,
            {
                "displayName": group.name,
                "description": group.first("description"),
                "groupTypes": ["Unified"] if unified else [],
                "mailEnabled": unified,
                "securityEnabled": not unified,
                "mailNickname": nickname,
                "mail": f"{nickname}@{domain}" if unified else None,
                "visibility": "Private" if unified else None,
            },
        )
        direct = model.direct_members(group.id, by_uid)
        found = dict.fromkeys([*direct.user_ids, *direct.group_ids])
        for value in direct.unresolved:
            device = devices.get(_canonical(value))
            if device is not None:
                found[device] = None
        members[group.id] = found
    return TenantView(objects, members)


def _user_object(user: User, domain: str) -> tuple[str, dict[str, Any]]:
    login = user.login
    mails = [str(v) for v in user.values("mail")]
    display = user.first("displayName") or user.first("cn")
    parents = {part.split("=", 1)[-1].strip().lower() for part in split_dn(user.parent_dn)}
    if "service" in parents:
        app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, user.id))
        return SERVICE_PRINCIPAL, {
            "appId": app_id,
            "displayName": display,
            "servicePrincipalType": "Application",
        }
    if "contacts" in parents:
        return CONTACT, {
            "displayName": display,
            "mail": mails[0] if mails else None,
            "givenName": user.first("givenName"),
            "surname": user.first("sn"),
        }
    guest = (user.first("employeeType") or "").lower() == "guest"
    return USER, {
        "userPrincipalName": f"{login}@{domain}",
        "onPremisesSamAccountName": login,
        "mailNickname": login,
        "mail": mails[0] if mails else None,
        "otherMails": mails[1:],
        "displayName": display,
        "givenName": user.first("givenName"),
        "surname": user.first("sn"),
        "accountEnabled": not user.disabled,
        "userType": "Guest" if guest else "Member",
        "employeeType": user.first("employeeType"),
        "department": user.first("departmentNumber"),
        "jobTitle": user.first("title"),
        "employeeId": user.first("employeeNumber"),
        "companyName": user.first("o"),
        "mobilePhone": user.first("mobile"),
        "businessPhones": [str(v) for v in user.values("telephoneNumber")],
        "officeLocation": user.first("roomNumber"),
        "preferredLanguage": user.first("preferredLanguage"),
    }


def _domain(model: DirectoryModel) -> str:
    for key in sorted(model.containers, key=len):
        parts = [p.split("=", 1) for p in split_dn(key)]
        if parts and all(name == "dc" for name, *_ in parts):
            return ".".join(value for _, value in parts)
    return "example.com"


def _canonical(dn: str) -> str:
    try:
        return canonical_dn(dn)
    except (ValueError, IndexError):
        return dn
