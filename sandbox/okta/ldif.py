"""Load an LDIF test directory (`sandbox.directories.model`) into the emulated Okta org.

The mapping (Okta has no DNs, no nested groups and needs an email on every user):

| LDIF | Okta |
| --- | --- |
| a user entry (`uid=alice,ou=people,...`) | a user; `profile.login` = `<uid>@<the mail's domain>` |
| `mail` | `profile.email`; a user without one is left out, with a warning naming its DN |
| `givenName`, `sn`, `displayName` | `profile.firstName`, `lastName`, `displayName` (absent stays absent) |
| `departmentNumber`, `title`, `employeeNumber` | `profile.department`, `title`, `employeeNumber` |
| the OU: people, contractors (under people), service | `profile.userType`: employee, contractor, service |
| `pwdAccountLockedTime` (a locked account) | status `SUSPENDED`; every other user `ACTIVE` |
| a group of any class | an `OKTA_GROUP` named by its RDN value, `description` kept |
| members, nested groups included | the group's users, flattened (cycles included once) |

A user whose login another user already holds (logins are unique ignoring case) is left out with a
warning too, the later one in the file. Ids are Okta's own
(`00u...`, `00g...`), made at load: find users by login, groups by name.
"""

from __future__ import annotations

from sandbox.directories.model import DirectoryModel, User
from sandbox.okta.directory import Directory

PROFILE_ATTRIBUTES = (
    ("firstName", "givenName"),
    ("lastName", "sn"),
    ("displayName", "displayName"),
    ("department", "departmentNumber"),
    ("title", "title"),
    ("employeeNumber", "employeeNumber"),
)


def load_ldif(directory: Directory, text: str, name: str | None = None) -> list[str]:
    """Replace `directory` with the LDIF's users and groups; the warnings name what was left out."""
    model = DirectoryModel.from_ldif(text, name=name or "<ldif>")
    warnings: list[str] = []
    state_users = []
    okta_login: dict[str, str] = {}  # model user id -> Okta login
    taken: set[str] = set()
    for user in model.users.values():
        email = user.first("mail")
        if not email:
            warnings.append(f"{user.dn}: left out: no mail, and an Okta user needs an email")
            continue
        login = f"{user.login}@{email.rpartition('@')[2]}"
        if login.lower() in taken:
            warnings.append(f"{user.dn}: left out: its login {login!r} is already another user's")
            continue
        taken.add(login.lower())
        okta_login[user.id] = login
        profile = {"login": login, "email": email, "userType": _user_type(user)}
        for okta_name, ldap_name in PROFILE_ATTRIBUTES:
            value = user.first(ldap_name)
            if value is not None:
                profile[okta_name] = value
        state_users.append({"profile": profile, "status": "SUSPENDED" if user.disabled else "ACTIVE"})
    directory.load({"users": state_users})
    ids = {model_id: directory.user(login).id for model_id, login in okta_login.items()}
    state = directory.dump()
    for group in model.groups.values():
        members = sorted(ids[user_id] for user_id in model.transitive_user_ids(group.id) if user_id in ids)
        state["groups"].append(
            {
                "type": "OKTA_GROUP",
                "profile": {"name": group.name, "description": group.first("description") or ""},
                "members": members,
            }
        )
    directory.load(state)
    return warnings


def _user_type(user: User) -> str:
    parent = user.parent_dn
    if parent.startswith("ou=service,"):
        return "service"
    if parent.startswith("ou=contractors,"):
        return "contractor"
    return "employee"
