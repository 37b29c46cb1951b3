"""OpenLdapSandbox: a throwaway slapd with its own configuration and data in a temporary folder."""

import atexit
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from sandbox.openldap.bulk import prepare_bulk_ldif
from sandbox.openldap.commands import run_tool
from sandbox.openldap.config import (
    READER_DN,
    SANDBOX_SUFFIX,
    SlapdSettings,
    TlsFiles,
    render_config,
    render_sandbox_entries,
)
from sandbox.openldap.errors import PortInUseError, SandboxError
from sandbox.openldap.process import SlapdProcess, free_port

DEFAULT_SUFFIX = "dc=example,dc=com"
# How often to pick new free ports when another process takes one first.
_PORT_ATTEMPTS = 5


@dataclass(frozen=True)
class LdapEndpoint:
    """Where a running sandbox listens and who may bind to it.

    `bind_dn` is the root DN: it may write and is never subject to size or time
    limits. `reader_dn` is an ordinary read-only account that limits apply to.
    """

    uri: str
    ldaps_uri: str | None
    base_dn: str
    bind_dn: str
    password: str
    reader_dn: str
    reader_password: str


class OpenLdapSandbox:
    """A real slapd on loopback, loaded from LDIF files, gone without a trace after stop().

    Use it as a context manager, or call start() and stop(); an atexit hook stops
    whatever is still running when the interpreter exits.
    """

    def __init__(
        self,
        ldif_files: Sequence[Path | str] = (),
        *,
        port: int | None = None,
        ldaps_port: int | None = None,
        size_limit: int | None = None,
        time_limit: int | None = None,
        tls: TlsFiles | None = None,
        suffix: str = DEFAULT_SUFFIX,
        password: str | None = None,
        anonymous_read: bool = False,
        extra_acls: Sequence[str] = (),
        read_only: bool = False,
        startup_timeout: float = 10.0,
    ) -> None:
        """`ldif_files` are bulk-loaded before start and must include the suffix entry; with none,
        the suffix entry alone is created. `extra_acls` are olcAccess values ("to ... by ...")
        checked before the defaults (authenticated users read all but passwords). `read_only`
        refuses every write, the root DN's included, with unwillingToPerform."""
        self._ldif_files = [Path(path) for path in ldif_files]
        self._requested_ports = (port, ldaps_port)
        self._tls = tls
        self._startup_timeout = startup_timeout
        self._settings = SlapdSettings(
            suffix=suffix,
            root_dn=f"cn=admin,{suffix}",
            root_password=password or secrets.token_urlsafe(12),
            size_limit=size_limit,
            time_limit=time_limit,
            tls=tls,
            anonymous_read=anonymous_read,
            extra_acls=tuple(extra_acls),
            read_only=read_only,
        )
        self._reader_password = secrets.token_urlsafe(12)
        self._folder: Path | None = None
        self._process: SlapdProcess | None = None
        self._endpoint: LdapEndpoint | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LdapEndpoint:
        if self._folder is not None:
            raise SandboxError("the sandbox is already started")
        self._folder = Path(tempfile.mkdtemp(prefix="openldap-sandbox-"))
        atexit.register(self.stop)
        try:
            self._create_database(self._folder)
            self._launch(self._folder)
        except BaseException:
            self.stop()
            raise
        assert self._endpoint is not None
        return self._endpoint

    def stop(self) -> None:
        """Stop slapd and delete its folder; safe to call twice."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        folder, self._folder = self._folder, None
        self._endpoint = None
        if process is not None:
            process.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def restart(self) -> None:
        """Stop slapd and start it again on the same ports with the same data."""
        self.process.stop()
        self.process.start(self._startup_timeout)

    def kill(self) -> None:
        """Kill slapd at once, keeping its data; restart() brings it back."""
        self.process.kill()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what tests use ----------------------------------------------------------------------------

    @property
    def endpoint(self) -> LdapEndpoint:
        if self._endpoint is None:
            raise SandboxError("the sandbox is not running; call start() or use it in a with-block")
        return self._endpoint

    @property
    def uri(self) -> str:
        return self.endpoint.uri

    @property
    def ldaps_uri(self) -> str | None:
        return self.endpoint.ldaps_uri

    @property
    def bind_dn(self) -> str:
        return self.endpoint.bind_dn

    @property
    def password(self) -> str:
        return self.endpoint.password

    @property
    def base_dn(self) -> str:
        return self.endpoint.base_dn

    @property
    def folder(self) -> Path:
        if self._folder is None:
            raise SandboxError("the sandbox is not running")
        return self._folder

    @property
    def process(self) -> SlapdProcess:
        if self._process is None:
            raise SandboxError("the sandbox is not running")
        return self._process

    def add_ldif(self, text: str) -> None:
        """Add the entries in `text` over LDAP (memberof and refint apply); change records
        (changetype: modify/delete/modrdn) in it are applied as written."""
        self._ldapmodify(text, add=True)

    def modify_ldif(self, text: str) -> None:
        """Apply LDIF change records; a record without `changetype` is an error."""
        self._ldapmodify(text, add=False)

    # -- internals ---------------------------------------------------------------------------------

    def _create_database(self, folder: Path) -> None:
        for name in ("config", "data", "sandbox-data"):
            (folder / name).mkdir()
        config_ldif = folder / "config.ldif"
        config_ldif.write_text(render_config(self._settings, folder), encoding="utf-8")
        run_tool(
            ["slapadd", "-n0", "-F", str(folder / "config"), "-l", str(config_ldif)],
            what="slapadd of cn=config",
        )

        sandbox_ldif = folder / "sandbox.ldif"
        sandbox_ldif.write_text(render_sandbox_entries(self._reader_password), encoding="utf-8")
        self._slapadd(SANDBOX_SUFFIX, sandbox_ldif)

        sources = self._ldif_files or [self._write_suffix_entry(folder)]
        for source in sources:
            if not source.is_file():
                raise SandboxError(f"LDIF file not found: {source}")
        prepared = prepare_bulk_ldif(sources, folder / "bulk.ldif")
        try:
            self._slapadd(self._settings.suffix, prepared.path)
        except SandboxError as error:
            raise SandboxError(prepared.explain(str(error))) from None
        # The prepared copy can be large (a benchmark directory); the database has it now.
        prepared.path.unlink()

    def _slapadd(self, suffix: str, ldif: Path) -> None:
        # -q skips consistency checks and fsyncs: the fast path for 100,000-entry loads.
        run_tool(
            ["slapadd", "-q", "-F", str(self.folder / "config"), "-b", suffix, "-l", str(ldif)],
            what=f"slapadd into {suffix}",
        )

    def _write_suffix_entry(self, folder: Path) -> Path:
        attribute, _, value = self._settings.suffix.split(",", 1)[0].partition("=")
        if attribute.lower() != "dc":
            raise SandboxError(f"with no LDIF files the suffix must start with dc=: {self._settings.suffix}")
        path = folder / "suffix.ldif"
        path.write_text(
            f"dn: {self._settings.suffix}\nobjectClass: dcObject\nobjectClass: organization\n"
            f"dc: {value}\no: {value}\n",
            encoding="utf-8",
        )
        return path

    def _launch(self, folder: Path) -> None:
        wanted_port, wanted_ldaps_port = self._requested_ports
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = wanted_port or free_port()
            ports = [("ldap", port)]
            if self._tls is not None:
                ports.append(("ldaps", wanted_ldaps_port or free_port()))
            process = SlapdProcess(folder / "config", ports, folder / "slapd.log")
            try:
                process.start(self._startup_timeout)
            except PortInUseError:
                # Only ports we picked ourselves are worth another try.
                if attempt == _PORT_ATTEMPTS or (wanted_port and (wanted_ldaps_port or not self._tls)):
                    raise
                continue
            self._process = process
            self._endpoint = LdapEndpoint(
                uri=f"ldap://127.0.0.1:{port}",
                ldaps_uri=f"ldaps://127.0.0.1:{ports[1][1]}" if len(ports) > 1 else None,
                base_dn=self._settings.suffix,
                bind_dn=self._settings.root_dn,
                password=self._settings.root_password,
                reader_dn=READER_DN,
                reader_password=self._reader_password,
            )
            return

    def _ldapmodify(self, text: str, *, add: bool) -> None:
        endpoint = self.endpoint
        args = ["ldapmodify", "-x", "-H", endpoint.uri, "-D", endpoint.bind_dn, "-w", endpoint.password]
        run_tool([*args, "-a"] if add else args, what="ldapmodify", input_text=text)
