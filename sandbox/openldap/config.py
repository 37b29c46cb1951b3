"""Renders the cn=config LDIF of a sandbox slapd and the entries of its private o=sandbox tree."""

import os
from dataclasses import dataclass
from pathlib import Path

MODULE_DIR = Path("/usr/lib/ldap")
SCHEMA_DIR = Path("/etc/ldap/schema")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")

# A second, tiny database holds what the sandbox needs for itself, so the directory
# under test keeps exactly the entries its LDIF files describe.
SANDBOX_SUFFIX = "o=sandbox"
READER_DN = f"cn=reader,{SANDBOX_SUFFIX}"
POLICY_DN = f"cn=default-policy,{SANDBOX_SUFFIX}"

# mdb maps the whole file up front; 4 GiB holds a 100,000-user directory with room to spare.
MDB_MAX_SIZE = 4 * 1024**3
INDEXES = (
    "objectClass eq",
    "entryUUID eq",
    "uid eq",
    "cn eq",
    "mail eq",
    "member eq",
    "uniqueMember eq",
    "memberUid eq",
    "memberOf eq",
)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files slapd serves TLS with: its certificate, its private key and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class SlapdSettings:
    suffix: str
    root_dn: str
    root_password: str
    size_limit: int | None = None
    time_limit: int | None = None
    tls: TlsFiles | None = None
    anonymous_read: bool = False
    extra_acls: tuple[str, ...] = ()
    read_only: bool = False


def render_config(settings: SlapdSettings, folder: Path) -> str:
    """The cn=config database as LDIF for `slapadd -n0`; data lives under `folder`."""
    parts = [
        _global(settings.tls),
        _modules(),
        "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n",
        *(f"include: file://{SCHEMA_DIR / name}.ldif\n" for name in SCHEMAS),
        "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
        "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n",
        # Nobody reads or changes the configuration over LDAP: tests change options by restarting.
        "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
        "olcDatabase: {0}config\nolcAccess: {0}to * by * none\n",
        _main_database(settings, folder / "data"),
        *_overlays(),
        _sandbox_database(settings.root_dn, folder / "sandbox-data"),
    ]
    return "\n".join(parts)


def render_sandbox_entries(reader_password: str) -> str:
    """The o=sandbox tree: a read-only account that limits apply to, and the default password policy."""
    return f"""\
dn: {SANDBOX_SUFFIX}
objectClass: organization
o: sandbox

dn: {READER_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: reader
userPassword: {reader_password}

# Without a policy, ppolicy ignores pwdAccountLockedTime at bind. No pwdMaxFailure:
# failed binds never lock anyone, only the LDIF's own pwdAccountLockedTime does.
dn: {POLICY_DN}
objectClass: applicationProcess
objectClass: pwdPolicy
cn: default-policy
pwdAttribute: userPassword
pwdLockout: TRUE
"""


def _global(tls: TlsFiles | None) -> str:
    # slapadd builds indexes in these threads: about half the wall time of a 100,000-user load.
    tool_threads = min(4, os.cpu_count() or 1)
    lines = ["dn: cn=config", "objectClass: olcGlobal", "cn: config", f"olcToolThreads: {tool_threads}"]
    if tls is not None:
        lines += [
            f"olcTLSCertificateFile: {tls.cert}",
            f"olcTLSCertificateKeyFile: {tls.key}",
            f"olcTLSCACertificateFile: {tls.ca}",
        ]
    return "\n".join(lines) + "\n"


def _modules() -> str:
    loads = "".join(f"olcModuleLoad: {name}\n" for name in ("back_mdb", "memberof", "refint", "ppolicy"))
    header = "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
    return f"{header}olcModulePath: {MODULE_DIR}\n{loads}"


def _main_database(settings: SlapdSettings, data_dir: Path) -> str:
    lines = [
        "dn: olcDatabase={1}mdb,cn=config",
        "objectClass: olcDatabaseConfig",
        "objectClass: olcMdbConfig",
        "olcDatabase: {1}mdb",
        f"olcSuffix: {settings.suffix}",
        f"olcRootDN: {settings.root_dn}",
        f"olcRootPW: {settings.root_password}",
        f"olcDbDirectory: {data_dir}",
        f"olcDbMaxSize: {MDB_MAX_SIZE}",
        # A throwaway database need not survive a power cut; skipping fsync keeps writes fast.
        "olcDbNoSync: TRUE",
        *(f"olcDbIndex: {index}" for index in INDEXES),
    ]
    # The root DN is never subject to limits; they bind the reader and other accounts.
    if settings.size_limit is not None:
        lines.append(f"olcSizeLimit: {settings.size_limit}")
    if settings.time_limit is not None:
        lines.append(f"olcTimeLimit: {settings.time_limit}")
    if settings.read_only:
        lines.append("olcReadOnly: TRUE")
    lines += [f"olcAccess: {{{i}}}{acl}" for i, acl in enumerate(_acls(settings))]
    return "\n".join(lines) + "\n"


def _acls(settings: SlapdSettings) -> list[str]:
    readers = "by users read by anonymous read" if settings.anonymous_read else "by users read"
    return [
        *settings.extra_acls,
        "to attrs=userPassword by anonymous auth by self write by * none",
        f"to * {readers} by * none",
    ]


def _overlays() -> list[str]:
    base = "olcDatabase={1}mdb,cn=config"
    return [
        f"dn: olcOverlay={{0}}memberof,{base}\nobjectClass: olcOverlayConfig\nobjectClass: olcMemberOf\n"
        # Keep memberOf right when a member entry is renamed or deleted.
        "olcOverlay: {0}memberof\nolcMemberOfRefInt: TRUE\n",
        f"dn: olcOverlay={{1}}refint,{base}\nobjectClass: olcOverlayConfig\nobjectClass: olcRefintConfig\n"
        "olcOverlay: {1}refint\nolcRefintAttribute: member\nolcRefintAttribute: uniqueMember\n",
        f"dn: olcOverlay={{2}}ppolicy,{base}\nobjectClass: olcOverlayConfig\nobjectClass: olcPPolicyConfig\n"
        f"olcOverlay: {{2}}ppolicy\nolcPPolicyDefault: {POLICY_DN}\n",
    ]


def _sandbox_database(root_dn: str, data_dir: Path) -> str:
    return f"""\
dn: olcDatabase={{2}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{2}}mdb
olcSuffix: {SANDBOX_SUFFIX}
olcRootDN: {root_dn}
olcDbDirectory: {data_dir}
olcDbMaxSize: {16 * 1024**2}
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
"""
