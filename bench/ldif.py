"""A generated company as LDIF for ``slapadd``: suffix, organisational units, people, groups.

entryUUID is written, not left to slapadd, so the ids an extraction reads
are the generated ones; locked accounts carry ``pwdAccountLockedTime`` (the
ppolicy overlay the sandbox loads).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

from bench.company import Company, Person

LOCKED_FOREVER = "000001010000Z"  # ppolicy: locked until an administrator unlocks


def write_ldif(company: Company, path: Path) -> None:
    with path.open("w", encoding="ascii") as out:
        for entry in _entries(company):
            out.write(entry)
            out.write("\n")


def attribute_line(name: str, value: str) -> str:
    """``name: value``, or ``name:: base64`` when RFC 2849 does not allow the value as it is."""
    if _safe(value):
        return f"{name}: {value}\n"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}\n"


def _safe(value: str) -> bool:
    if not value:
        return True
    if value[0] in " :<" or value[-1] == " ":
        return False
    return all(0 < ord(ch) < 128 and ch not in "\r\n" for ch in value)


def _entries(company: Company) -> Iterator[str]:
    dc = company.suffix.split(",")[0].split("=")[1]
    yield f"dn: {company.suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: {dc}\no: {dc}\n"
    for ou in ("people", "services", "groups"):
        yield f"dn: ou={ou},{company.suffix}\nobjectClass: organizationalUnit\nou: {ou}\n"
    for person in company.people:
        yield _person(company.person_dn(person), person)
    for person in company.services:
        yield _person(company.service_dn(person), person)
    people_dns = [company.person_dn(p) for p in company.people]
    group_dns = [company.group_dn(g) for g in company.groups]
    for group, dn in zip(company.groups, group_dns, strict=True):
        members = [people_dns[i] for i in group.users] + [group_dns[i] for i in group.groups]
        yield "".join(
            [
                f"dn: {dn}\nobjectClass: groupOfNames\n",
                attribute_line("cn", group.cn),
                attribute_line("description", group.description),
                f"entryUUID: {group.uuid}\n",
                *(f"member: {member}\n" for member in members),
            ]
        )


def _person(dn: str, person: Person) -> str:
    lines = [
        f"dn: {dn}\n",
        "objectClass: inetOrgPerson\n",
        f"uid: {person.uid}\n",
        attribute_line("cn", person.display_name),
        attribute_line("sn", person.surname),
        attribute_line("givenName", person.given_name),
        attribute_line("displayName", person.display_name),
        f"mail: {person.mail}\n",
        f"title: {person.title}\n",
        f"departmentNumber: {person.department}\n",
        f"employeeNumber: {person.employee_number}\n",
        f"employeeType: {person.employee_type}\n",
        f"telephoneNumber: {person.phone}\n",
        f"entryUUID: {person.uuid}\n",
    ]
    if person.locked:
        lines.append(f"pwdAccountLockedTime: {LOCKED_FOREVER}\n")
    return "".join(lines)
