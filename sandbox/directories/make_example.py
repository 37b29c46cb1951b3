"""Writes example.ldif and README.md: a small company that exercises every hard case.

    python -m sandbox.directories.make_example

Deterministic: the same code writes the same bytes. Tests import `build()` to get
the model the files were written from, so expected frames never drift from the LDIF.
"""

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.openldap.dn import canonical_dn, escape_rdn_value

SUFFIX = "dc=example,dc=com"
PEOPLE = f"ou=people,{SUFFIX}"
CONTRACTORS = f"ou=contractors,{PEOPLE}"
SERVICE = f"ou=service,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
ROOT_DN = f"cn=admin,{SUFFIX}"
PERMANENT_LOCK = "000001010000Z"  # ppolicy: locked by an administrator, never unlocks by itself

HERE = Path(__file__).resolve().parent
EXAMPLE_LDIF = HERE / "example.ldif"  # what `main` writes; the sandbox and the tests serve it


@dataclass
class User:
    uid: str
    given: str
    sn: str
    ou: str = PEOPLE
    mail: str | None = "default"  # "default": given.sn@example.com
    display: str | None = "default"  # "default": "given sn"
    locked: str | None = None  # pwdAccountLockedTime
    password: str | None = None
    extra_uids: tuple[str, ...] = ()
    object_classes: tuple[str, ...] = ("inetOrgPerson",)
    posix_id: int | None = None
    department: str | None = None
    case: str | None = None  # the hard case this entry is for, written as a comment

    def __post_init__(self) -> None:
        if self.mail == "default":
            self.mail = f"{_ascii(self.given)}.{_ascii(self.sn)}@example.com".lower()
        if self.display == "default":
            self.display = f"{self.given} {self.sn}"

    @property
    def cn(self) -> str:
        return f"{self.given} {self.sn}"

    @property
    def dn(self) -> str:
        return f"uid={escape_rdn_value(self.uid)},{self.ou}"


@dataclass
class Group:
    cn: str
    kind: str  # groupOfNames, groupOfUniqueNames or posixGroup
    members: list[str] = field(default_factory=list)  # DNs; user names for posixGroup
    description: str = ""
    gid: int | None = None
    case: str | None = None

    @property
    def dn(self) -> str:
        return f"cn={escape_rdn_value(self.cn)},{GROUPS}"


@dataclass
class Directory:
    users: list[User]
    groups: list[Group]

    def group(self, cn: str) -> Group:
        return next(g for g in self.groups if g.cn == cn)


def _ascii(text: str) -> str:
    table = str.maketrans({"é": "e", "è": "e", "ü": "u", "ß": "ss", "ë": "e", "á": "a", "'": "", " ": ""})
    return text.translate(table)


# -- the people ------------------------------------------------------------------------------------

_FIRST_NAMES = (
    "Aaron Abigail Adrian Aisha Alan Alice Amelia Andre Anika Ben Bianca Carl Carmen Chloe Colin Dana "
    "Daniel Diana Eli Elena Emma Eric Fatima Felix Fiona Gavin Grace Hannah Hugo Ian Irene Ivan Jack "
    "Jade Kai Karen Kevin Laura Leo Lily Liam Lucas Maya Mia Nadia Nathan Nina Oliver Olga Omar Paula "
    "Peter Quinn Rachel Raj Rosa Ryan Sara Simon Sofia Tara Theo Uma Victor Wendy Xavier Yara Zack"
)
_LAST_NAMES = (
    "Adams Baker Brooks Carter Chen Clark Cohen Cruz Davies Diaz Evans Fischer Ford Garcia Gray Hall "
    "Hansen Hill Howard Hughes Ito Jensen Kim Klein Lee Lopez Meyer Miller Moore Morgan Murphy Novak "
    "Ortiz Park Perez Price Reed Reyes Rossi Ruiz Sato Schmidt Scott Shah Silva Stone Tanaka Turner "
    "Vargas Walsh Ward Weber Wood Young"
)
FIRST = _FIRST_NAMES.split()
LAST = _LAST_NAMES.split()

# department group -> number of ordinary employees in it
DEPARTMENTS = {
    "team-sre": 8,
    "eng-platform": 10,
    "eng-data": 14,
    "team-web": 16,
    "team-mobile": 12,
    "sales": 22,
    "marketing": 14,
    "finance": 10,
    "hr": 8,
    "legal": 5,
    "support": 18,
    "it-ops": 8,
    "design": 9,
    "qa": 10,
}
ENGINEERING_TEAMS = ("team-sre", "eng-platform", "eng-data", "team-web", "team-mobile")


def _ordinary_employees() -> list[User]:
    users: list[User] = []
    taken: set[str] = set()
    index = 0
    for department, size in DEPARTMENTS.items():
        for _ in range(size):
            # Walk the name lists with different steps: varied names, no randomness.
            given, sn = FIRST[(index * 7) % len(FIRST)], LAST[(index * 11 + index // len(LAST)) % len(LAST)]
            base = uid = f"{given[0]}{sn}".lower()
            number = 2
            while uid in taken:  # Alice and Aaron Brooks: abrooks, abrooks2
                uid, number = f"{base}{number}", number + 1
            taken.add(uid)
            users.append(User(uid, given, sn, posix_id=10000 + index, department=department))
            index += 1
    # People who left: locked by an administrator, still in their groups until someone cleans up.
    for position in (3, 41, 97):
        users[position].locked = PERMANENT_LOCK
        users[position].case = "locked account (permanent administrative lock)"
    users[120].locked = "20250301083000Z"
    users[120].case = "locked account (locked at a point in time, e.g. too many failed binds)"
    users[120].password = "locked-password"
    users[1].password = "user-password"
    users[1].case = "ordinary account with a known password (bind tests)"
    return users


def _executives() -> list[User]:
    titles = (
        ("ceo", "Helen", "Marsh"),
        ("cfo", "Robert", "Kline"),
        ("cmo", "Ingrid", "Falk"),
        ("coo", "Samuel", "Osei"),
        ("cto", "Priya", "Raman"),
        ("vpsales", "Marco", "Bellini"),
    )
    return [
        User(uid, given, sn, posix_id=9000 + i, department="leadership")
        for i, (uid, given, sn) in enumerate(titles)
    ]


def _hard_case_people() -> list[User]:
    return [
        User("JSmith", "John", "Smith", department="team-web", case="upper-case login (uid: JSmith)"),
        User(
            "jsmith",
            "Jane",
            "Smith",
            ou=CONTRACTORS,
            mail="jane.smith@contractor.example.org",
            case="same login as JSmith once lower-cased, in another OU",
        ),
        User(
            "rlefevre",
            "René",
            "Lefèvre",
            department="marketing",
            case="non-ASCII name (é, è): base64 in LDIF",
        ),
        User("jgross", "Jürgen", "Groß", department="finance", case="non-ASCII name (ü, ß)"),
        User(
            "wxiaoming",
            "小明",
            "王",
            mail="wang.xiaoming@example.com",
            display="王小明",
            department="eng-data",
            case="Chinese name (中文): cn, sn, givenName, displayName",
        ),
        User(
            "zoë",
            "Zoë",
            "Adams",
            mail="zoe.adams@example.com",
            department="design",
            case="non-ASCII login (uid: zoë) and DN",
        ),
        User(
            "sobrien",
            "Siobhán",
            "O'Brien",
            mail="siobhan.o'brien@example.com",
            department="support",
            case="apostrophe in surname and in mail (valid in an address)",
        ),
        User(
            "mary jane", "Mary Jane", "Watson", department="team-web", case="space in login (uid: mary jane)"
        ),
        User(
            "corp\\bwilson",
            "Brian",
            "Wilson",
            department="it-ops",
            case="backslash in login (Confluence forbids \\)",
        ),
        User("smith,anna", "Anna", "Smith", department="sales", case="comma in login (Confluence forbids ,)"),
        User(
            "alice+admin", "Alice", "Moreau", department="it-ops", case="plus in login (Confluence forbids +)"
        ),
        User(
            "<script>",
            "Mallory",
            "Hacker",
            display="<script>alert(1)</script>",
            mail="mallory@example.com",
            department="qa",
            case="< and > in login and HTML in displayName (reports must escape it)",
        ),
        User(
            "o'neil", "Conan", "O'Neil", department="sales", case="apostrophe in login (Confluence forbids ')"
        ),
        User(
            '"tbrown"',
            "Tom",
            "Brown",
            department="support",
            case='double quotes in login (Confluence forbids ")',
        ),
        User("kwalker", "Kate", "Walker", mail=None, department="hr", case="no mail attribute"),
        User(
            "jdoe", "John", "Doe", department="it-ops", case="shares mail john.doe@example.com with jdoe-adm"
        ),
        User(
            "jdoe-adm",
            "John",
            "Doe",
            display="John Doe (admin)",
            case="admin account sharing mail john.doe@example.com with jdoe",
        ),
        User(
            "pmartin",
            "Paul",
            "Martin",
            mail="Paul.Martin@Example.COM",
            department="sales",
            case="mixed-case mail address",
        ),
        User(
            "bwayne",
            "Bruce",
            "Wayne",
            extra_uids=("batman",),
            department="finance",
            case="two uid values (bwayne, batman): the login is the RDN value",
        ),
        User(
            "tnguyen",
            "Thanh",
            "Nguyen",
            display=None,
            department="team-mobile",
            case="no displayName (fall back to cn)",
        ),
    ]


def _contractors() -> list[User]:
    names = (
        ("cvance", "Carla", "Vance"),
        ("dokafor", "Daniel", "Okafor"),
        ("ebraun", "Eva", "Braun"),
        ("fmoretti", "Franco", "Moretti"),
        ("glindqvist", "Greta", "Lindqvist"),
        ("hyamada", "Hiro", "Yamada"),
        ("ikowalski", "Igor", "Kowalski"),
        ("jmensah", "Joy", "Mensah"),
        ("kdubois", "Kim", "Dubois"),
    )
    return [
        User(uid, given, sn, ou=CONTRACTORS, mail=f"{uid}@contractor.example.org", department="contractors")
        for uid, given, sn in names
    ]


def _service_accounts() -> list[User]:
    service = "service account: lives in ou=service, must never be synced"
    return [
        User(
            "svc-confluence-sync",
            "Confluence",
            "Sync",
            ou=SERVICE,
            mail="confluence-sync@example.com",
            display="Confluence sync",
            password="sync-password",
            case=f"{service}; the account the sync binds with",
        ),
        User(
            "svc-backup",
            "Backup",
            "Agent",
            ou=SERVICE,
            mail="backup@example.com",
            display="Backup agent",
            case=f"{service}; also a member of it-ops",
        ),
        User(
            "svc-monitoring",
            "Monitoring",
            "Agent",
            ou=SERVICE,
            mail="monitoring@example.com",
            display="Monitoring agent",
            case=service,
        ),
        User(
            "svc-jenkins",
            "Jenkins",
            "CI",
            ou=SERVICE,
            mail=None,
            display=None,
            object_classes=("account", "simpleSecurityObject"),
            password="jenkins-password",
            case=f"{service}; account + simpleSecurityObject, not a person",
        ),
    ]


# -- the groups ------------------------------------------------------------------------------------


def _groups(users: list[User]) -> list[Group]:
    def in_dept(name: str) -> list[str]:
        return [u.dn for u in users if u.department == name]

    def uids(name: str, count: int) -> list[str]:
        return [u.uid for u in users if u.department == name and u.posix_id is not None][:count]

    by_uid = {u.uid: u for u in users if u.ou != CONTRACTORS}
    exec_dn = {uid: by_uid[uid].dn for uid in ("ceo", "cfo", "cmo", "coo", "cto", "vpsales")}
    people = [u for u in users if u.ou == PEOPLE]

    def gdn(cn: str) -> str:
        return f"cn={escape_rdn_value(cn)},{GROUPS}"

    return [
        Group(
            "all-staff",
            "groupOfNames",
            [u.dn for u in people],
            "Every employee in ou=people (contractors and service accounts are not staff)",
        ),
        Group(
            "engineering",
            "groupOfNames",
            [gdn("eng-platform"), gdn("eng-data"), gdn("eng-product"), exec_dn["cto"]],
            "Engineering",
            case="nesting level 1: engineering > eng-product > team-web/team-mobile, "
            "engineering > eng-platform > team-sre",
        ),
        Group(
            "eng-platform",
            "groupOfNames",
            [gdn("team-sre"), *in_dept("eng-platform"), exec_dn["cto"]],
            "Platform engineering",
            case="nesting level 2; the CTO is a direct member here and in engineering",
        ),
        Group("team-sre", "groupOfNames", in_dept("team-sre"), "Site reliability", case="nesting level 3"),
        Group("eng-data", "groupOfNames", in_dept("eng-data"), "Data engineering", case="nesting level 2"),
        Group(
            "eng-product",
            "groupOfNames",
            [gdn("team-web"), gdn("team-mobile")],
            "Product engineering",
            case="nesting level 2; only groups as direct members",
        ),
        Group("team-web", "groupOfNames", in_dept("team-web"), "Web team", case="nesting level 3"),
        Group("team-mobile", "groupOfNames", in_dept("team-mobile"), "Mobile team", case="nesting level 3"),
        Group(
            "leadership",
            "groupOfNames",
            [exec_dn[uid] for uid in ("ceo", "cfo", "cmo", "coo")] + [gdn("exec-staff")],
            "Leadership team",
            case="membership cycle: leadership > exec-staff > leadership",
        ),
        Group(
            "exec-staff",
            "groupOfNames",
            [exec_dn["cto"], exec_dn["vpsales"], gdn("leadership")],
            "Executive staff",
            case="membership cycle: exec-staff > leadership > exec-staff",
        ),
        Group(
            "sales",
            "groupOfNames",
            [*in_dept("sales"), exec_dn["vpsales"], f"uid=former.employee,{PEOPLE}"],
            "Sales",
            case="a member DN that does not exist (uid=former.employee)",
        ),
        Group("marketing", "groupOfNames", in_dept("marketing"), "Marketing"),
        Group("finance", "groupOfNames", in_dept("finance"), "Finance"),
        Group("hr", "groupOfNames", in_dept("hr"), "Human resources"),
        Group("legal", "groupOfNames", in_dept("legal"), "Legal"),
        Group("support", "groupOfNames", in_dept("support"), "Support"),
        Group(
            "it-ops",
            "groupOfNames",
            [*in_dept("it-ops"), f"uid=svc-backup,{SERVICE}"],
            "IT operations",
            case="a member in ou=service (svc-backup), out of the user scope",
        ),
        Group(
            "Confluence-Administrators",
            "groupOfNames",
            [by_uid["jdoe-adm"].dn, *in_dept("it-ops")[:2], f"uid=svc-confluence-sync,{SERVICE}", ROOT_DN],
            "Wiki administrators",
            case="name collides with Confluence's reserved confluence-administrators; "
            "members include a service account and the root DN (not an entry)",
        ),
        Group(
            "wiki-editors",
            "groupOfNames",
            # Written the way some tools write DNs: other case, spaces after commas.
            ["UID=JSmith, OU=People, DC=Example, DC=Com", *in_dept("marketing")[:4]],
            "Wiki editors",
            case="a member DN in other letter case and spacing than the entry's DN",
        ),
        Group(
            "contractors",
            "groupOfNames",
            [u.dn for u in users if u.ou == CONTRACTORS],
            "External contractors (ou=contractors,ou=people)",
        ),
        Group(
            "new-hires",
            "groupOfNames",
            [f"cn=nobody,{SUFFIX}"],
            "Filled by onboarding",
            case="empty groupOfNames: only the placeholder member cn=nobody (no such entry), "
            "because groupOfNames must have a member",
        ),
        Group(
            "project-apollo",
            "groupOfNames",
            [
                by_uid[uid].dn
                for uid in ("corp\\bwilson", "smith,anna", "alice+admin", "<script>", "o'neil", '"tbrown"')
            ]
            + [by_uid["mary jane"].dn, by_uid["zoë"].dn, by_uid["wxiaoming"].dn],
            "Cross-team project",
            case='members whose DNs need escaping (\\ , + < > " and a space) or are non-ASCII',
        ),
        Group("design", "groupOfUniqueNames", in_dept("design"), "Design", case="groupOfUniqueNames"),
        Group("qa", "groupOfUniqueNames", in_dept("qa"), "Quality assurance", case="groupOfUniqueNames"),
        Group(
            "customer-success",
            "groupOfUniqueNames",
            [*in_dept("support")[:5], *in_dept("sales")[:5]],
            "Customer success",
            case="groupOfUniqueNames overlapping two departments",
        ),
        Group(
            "Office Berlin",
            "groupOfUniqueNames",
            [by_uid["jgross"].dn, *in_dept("finance")[:3], *in_dept("eng-data")[:3]],
            "Berlin office",
            case="space and capitals in a group name",
        ),
        Group(
            "Équipe Paris",
            "groupOfUniqueNames",
            [by_uid["rlefevre"].dn, *in_dept("marketing")[4:7]],
            "Paris office",
            case="non-ASCII group name (É): base64 in LDIF",
        ),
        Group(
            "developers",
            "posixGroup",
            [*uids("team-web", 6), *uids("eng-platform", 6), "JSmith", "ghost"],
            "Shell access for developers",
            gid=5001,
            case="posixGroup: memberUid holds user names; JSmith in its own case; ghost matches nobody",
        ),
        Group(
            "docker",
            "posixGroup",
            [*uids("team-sre", 5), "svc-jenkins"],
            "Docker hosts",
            gid=5002,
            case="posixGroup with a service account's user name",
        ),
        Group(
            "printer-users",
            "posixGroup",
            [],
            "Nobody yet",
            gid=5003,
            case="truly empty group: posixGroup allows no memberUid at all",
        ),
    ]


def build() -> Directory:
    people = _executives() + _ordinary_employees() + _hard_case_people()
    users = people + _contractors() + _service_accounts()
    # The case collision lives among the contractors; keep it next to them.
    users.sort(key=lambda u: (u.ou != PEOPLE, u.ou != CONTRACTORS))
    return Directory(users, _groups(users))


# -- LDIF ------------------------------------------------------------------------------------------

_SAFE_STRING = re.compile(r"[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*")


def _line(attribute: str, value: str) -> list[str]:
    """One attribute line; base64 with a readable comment above it when the value is not plain ASCII."""
    if _SAFE_STRING.fullmatch(value) and not value.endswith(" "):
        return [f"{attribute}: {value}"]
    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
    return [f"# {attribute}: {value}", f"{attribute}:: {encoded}"]


def _user_entry(user: User) -> list[str]:
    lines = [f"# HARD CASE: {user.case}"] if user.case else []
    lines += _line("dn", user.dn)
    classes = list(user.object_classes) + (["posixAccount"] if user.posix_id is not None else [])
    lines += [f"objectClass: {name}" for name in classes]
    for uid in (user.uid, *user.extra_uids):
        lines += _line("uid", uid)
    if "inetOrgPerson" in user.object_classes:
        lines += _line("cn", user.cn) + _line("sn", user.sn) + _line("givenName", user.given)
        if user.display:
            lines += _line("displayName", user.display)
        if user.mail:
            lines += _line("mail", user.mail)
        if user.department:
            lines += _line("departmentNumber", user.department)
    else:
        lines += _line("description", user.cn)
    if user.posix_id is not None:
        lines += [
            f"uidNumber: {user.posix_id}",
            "gidNumber: 100",
            f"homeDirectory: /home/{_ascii(user.uid)}",
            "loginShell: /bin/bash",
        ]
    if user.password:
        lines.append(f"userPassword: {user.password}")
    if user.locked:
        lines.append(f"pwdAccountLockedTime: {user.locked}")
    return lines


def _group_entry(group: Group) -> list[str]:
    lines = [f"# HARD CASE: {group.case}"] if group.case else []
    lines += _line("dn", group.dn)
    lines.append(f"objectClass: {group.kind}")
    lines += _line("cn", group.cn)
    lines += _line("description", group.description)
    if group.gid is not None:
        lines.append(f"gidNumber: {group.gid}")
    attribute = {"groupOfNames": "member", "groupOfUniqueNames": "uniqueMember", "posixGroup": "memberUid"}
    for member in group.members:
        lines += _line(attribute[group.kind], member)
    return lines


def _section(title: str) -> list[str]:
    return ["# " + "=" * 78, f"# {title}", "# " + "=" * 78, ""]


def render_ldif(directory: Directory) -> str:
    header = [
        "# Example directory for the OpenLDAP sandbox: a ~200-person company.",
        "# Written by `python -m sandbox.directories.make_example`: edit that, not this file.",
        "# Every entry that exists for a hard case says so in a 'HARD CASE' comment;",
        "# base64 values carry a readable copy of themselves in the comment above them.",
        "",
        f"dn: {SUFFIX}",
        "objectClass: dcObject",
        "objectClass: organization",
        "dc: example",
        "o: Example Corp",
        "",
    ]
    for ou, what in (
        (PEOPLE, "employees"),
        (CONTRACTORS, "contractors, a level below ou=people"),
        (SERVICE, "service accounts: never synced"),
        (GROUPS, "groups of all three kinds"),
    ):
        header += [f"dn: {ou}", "objectClass: organizationalUnit", f"ou: {ou.split(',')[0][3:]}"]
        header += [f"description: {what}", ""]
    blocks: list[list[str]] = []
    sections = (
        (PEOPLE, "ou=people: employees"),
        (CONTRACTORS, "ou=contractors,ou=people: contractors"),
        (SERVICE, "ou=service: service accounts"),
    )
    for ou, title in sections:
        blocks.append(_section(title))
        blocks += [[*_user_entry(u), ""] for u in directory.users if u.ou == ou]
    blocks.append(_section("ou=groups"))
    blocks += [[*_group_entry(g), ""] for g in directory.groups]
    return "\n".join(header + [line for block in blocks for line in block])


# -- counts for the README -------------------------------------------------------------------------


def flattened_people(directory: Directory, group: Group) -> set[str]:
    """DNs of the user entries in `group` and the groupOfNames nested in it, cycles included."""
    user_dns = {canonical_dn(u.dn): u.dn for u in directory.users}
    group_by_dn = {canonical_dn(g.dn): g for g in directory.groups}
    found: set[str] = set()
    seen: set[str] = set()
    stack = [group]
    while stack:
        current = stack.pop()
        if canonical_dn(current.dn) in seen or current.kind == "posixGroup":
            continue
        seen.add(canonical_dn(current.dn))
        for member in current.members:
            if canonical_dn(member) in user_dns:
                found.add(user_dns[canonical_dn(member)])
            elif canonical_dn(member) in group_by_dn:
                stack.append(group_by_dn[canonical_dn(member)])
    return found


def iter_readme_rows(directory: Directory) -> Iterator[str]:
    user_dns = {canonical_dn(u.dn): u for u in directory.users}
    group_dns = {canonical_dn(g.dn) for g in directory.groups}
    uids = {u.uid for u in directory.users}
    for group in directory.groups:
        if group.kind == "posixGroup":
            users = [m for m in group.members if m in uids]
            kinds = (len(users), 0, 0, len(group.members) - len(users))
            flat = "n/a"
        else:
            members = [canonical_dn(m) for m in group.members]
            people = sum(m in user_dns and user_dns[m].ou != SERVICE for m in members)
            service = sum(m in user_dns and user_dns[m].ou == SERVICE for m in members)
            nested = sum(m in group_dns for m in members)
            kinds = (people, nested, service, len(members) - people - nested - service)
            flat = str(sum(not dn.endswith(SERVICE) for dn in flattened_people(directory, group)))
        cells = [f"`{group.cn}`", group.kind, *map(str, kinds), flat]
        yield "| " + " | ".join(cells) + " |"


def iter_small_groups(directory: Directory, most: int = 15) -> Iterator[str]:
    """The members of each group with at most `most` of them, named the way a reader finds them."""
    users = {canonical_dn(u.dn): u for u in directory.users}
    groups = {canonical_dn(g.dn): g for g in directory.groups}

    def name(member: str) -> str:
        if canonical_dn(member) in users:
            user = users[canonical_dn(member)]
            return f"`{user.uid}`" + (" (ou=service)" if user.ou == SERVICE else "")
        if canonical_dn(member) in groups:
            return f"group `{groups[canonical_dn(member)].cn}`"
        return f"`{member}` (no such entry)"

    for group in directory.groups:
        if len(group.members) <= most:
            named = group.members if group.kind == "posixGroup" else [name(m) for m in group.members]
            listed = ", ".join(f"`{m}`" for m in named) if group.kind == "posixGroup" else ", ".join(named)
            yield f"- `{group.cn}`: {listed or '(none)'}"


# What a sync with include/mapping_rules/default.yaml does with each hard case (README table).
SYNC_OUTCOMES: list[tuple[str, str]] = [
    (
        "locked accounts (`epark`, `dhughes`, `zscott`, `fmeyer`)",
        "desired, but disabled: an existing Confluence account is disabled; none is "
        'created (a plan note, a report line each "not created: disabled in the '
        'directory", counted under "not created" so desired = existing + created + not '
        "created); a disabled account stays in `engineering` while the directory lists it "
        "there (`epark` via team-sre, `dhughes` via team-web) and is never added to a "
        "group",
    ),
    (
        "a Confluence account with no entry (a leaver, e.g. `ckim` after `make demo` deletes it)",
        "out of scope: disabled, and removed from `engineering` (pruned; the removal "
        "counts toward `limits.max_membership_removals`); keeps its other groups, which "
        "only gain members",
    ),
    (
        "a user who leaves `qa` or the engineering teams (`skim` in `make demo`)",
        "removed from `engineering`; other groups unchanged",
    ),
    (
        "`JSmith` and the contractor `jsmith`",
        "both become `jsmith`: both left out, each naming the other; an existing `jsmith` "
        "account is held (no change at all)",
    ),
    (
        "logins with `\\ , + < > ' \"` or a space, `kwalker` (no mail), `jdoe`/`jdoe-adm` (shared mail)",
        "left out with the reason; their existing accounts are held (no change at all)",
    ),
    (
        "`zoë`, `rlefevre`, `jgross`, `wxiaoming`, `sobrien`, `pmartin`, `bwayne`, `tnguyen`",
        "synced (`zoë` as is, mail lower-cased, the RDN uid, the cn when there is no displayName)",
    ),
    (
        "service accounts (`ou=service`)",
        "never synced (`users.exclude`); `svc-confluence-sync` is also protected",
    ),
    (
        "`Confluence-Administrators`",
        "lands on the protected `confluence-administrators`: reported, never applied",
    ),
    (
        "nesting, the `leadership`/`exec-staff` cycle",
        "nested members count; the cycle is reported and flattened once",
    ),
    (
        "`Office Berlin`, `Équipe Paris`",
        "Confluence groups `office berlin`, `équipe paris`",
    ),
    (
        "`new-hires`, unknown members (`former.employee`, `ghost`, `cn=admin`)",
        "`new-hires` becomes an empty group; each unknown member is reported and left out",
    ),
    (
        "`docker`, `printer-users`",
        "excluded from on-the-fly: no Confluence group",
    ),
]


def render_readme(directory: Directory) -> str:
    users = directory.users
    employees = [u for u in users if u.ou == PEOPLE]
    contractors = [u for u in users if u.ou == CONTRACTORS]
    service = [u for u in users if u.ou == SERVICE]
    locked = [u for u in users if u.locked]
    kinds = {kind: [g for g in directory.groups if g.kind == kind] for kind in _KINDS}
    cases = [f"| `{u.dn}` | {u.case} |" for u in users if u.case]
    cases += [f"| `{g.dn}` | {g.case} |" for g in directory.groups if g.case]
    counts = {
        "entries in the file (suffix, 4 OUs, users, groups)": 1 + 4 + len(users) + len(directory.groups),
        "user entries (ou=people subtree + ou=service)": len(users),
        "ou=people subtree (employees + contractors)": len(employees) + len(contractors),
        "ou=people, one level (employees)": len(employees),
        "ou=contractors,ou=people": len(contractors),
        "ou=service (service accounts)": len(service),
        "locked (pwdAccountLockedTime), all in ou=people": len(locked),
        "ou=people subtree without mail": sum(u.mail is None for u in employees + contractors),
        "groups": len(directory.groups),
        **{f"groups of class {kind}": len(groups) for kind, groups in kinds.items()},
    }
    return _README.format(
        counts="\n".join(f"| {what} | {count} |" for what, count in counts.items()),
        locked=", ".join(f"`{u.uid}` ({u.locked})" for u in locked),
        groups="\n".join(iter_readme_rows(directory)),
        small_groups="\n".join(iter_small_groups(directory)),
        cases="\n".join(cases),
        outcomes="\n".join(f"| {case} | {outcome} |" for case, outcome in SYNC_OUTCOMES),
        passwords=", ".join(f"`{u.dn}` (`{u.password}`)" for u in users if u.password),
    )


_KINDS = ("groupOfNames", "groupOfUniqueNames", "posixGroup")

_README = """\
# Sample directories

`example.ldif` is a small company under `dc=example,dc=com` for the OpenLDAP
sandbox (`python -m sandbox.openldap`, fixture `ldap_example`). It is written by
`make_example.py`, which also writes this file: change the script and run
`python -m sandbox.directories.make_example`, never edit either file by hand.
For exact expected frames, import the model the files come from:
`from sandbox.directories.make_example import build`.

## Layout

```
dc=example,dc=com
  ou=people        employees (inetOrgPerson; ordinary ones also posixAccount)
    ou=contractors contractors, one level down: a one-level search misses them
  ou=service       service accounts: never synced
  ou=groups        groupOfNames (member), groupOfUniqueNames (uniqueMember),
                   posixGroup (memberUid = user names)
```

What the server adds: `entryUUID` (a new value on every load: match on DN or
uid, never on a remembered UUID), `memberOf` on the direct members of every
groupOfNames (not groupOfUniqueNames or posixGroup, not nested memberships:
that is how the OpenLDAP memberof overlay works), and the usual operational
attributes. `pwdAccountLockedTime` is operational too: ask for it by name or
with `+`. The password policy makes a locked account's bind fail.

DNs come back in slapd's spelling, member values in the LDIF's: the entry
written `uid=corp\\\\bwilson` is returned as `uid=corp\\5Cbwilson`, and
wiki-editors keeps `UID=JSmith, OU=People, DC=Example, DC=Com`. Compare DNs
parsed, never as strings (`sandbox.openldap.dn.canonical_dn` is one way). A
search for `(uid=JSmith)` finds two entries (uid=JSmith and the contractor
uid=jsmith): uid matching is case-insensitive.

## Counts

| what | count |
| --- | --- |
{counts}

Locked: {locked}.

Accounts with a password (all others have none, so they cannot bind):
{passwords}. The locked one's bind fails.

## Groups and their direct members

*people* are user entries in the ou=people subtree, *nested* are groups,
*service* are entries in ou=service, *other* are values that name no entry (a
deleted user, a placeholder, the root DN, a memberUid with no such uid).
*flattened* counts the distinct ou=people users reached through nested
groupOfNames, cycles included, which is what the extractor should produce.
For posixGroup the first column counts memberUid values that are a user's
uid (case-sensitive, as written).

| group | class | people | nested | service | other | flattened |
| --- | --- | --- | --- | --- | --- | --- |
{groups}

Groups with at most 15 direct members, member by member (posixGroup:
the memberUid values as written):

{small_groups}

## Hard cases, entry by entry

| entry | case |
| --- | --- |
{cases}

## What a sync does with each case

With `include/mapping_rules/default.yaml` (service accounts excluded by
subtree; `engineering` pruned from `engineering` and `qa`; `leadership` from
`leadership` and `exec-staff`, only adding; every other group on the fly under
its lower-cased name, only adding, except `docker` and `printer-users`).
`confluence-provisioning preview --rules include/mapping_rules/default.yaml
--ldif sandbox/directories/example.ldif` shows the same.

| case | what the sync does |
| --- | --- |
{outcomes}
"""


def main() -> None:
    directory = build()
    EXAMPLE_LDIF.write_text(render_ldif(directory), encoding="utf-8")
    (HERE / "README.md").write_text(render_readme(directory), encoding="utf-8")


if __name__ == "__main__":
    main()
