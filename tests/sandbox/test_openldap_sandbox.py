"""The OpenLDAP sandbox starts a real slapd, serves what it was given and leaves nothing behind."""

import os
import ssl
import tempfile
from pathlib import Path

import ldap3
import pytest
from ldap3.core.exceptions import LDAPSocketOpenError

from sandbox.openldap import OpenLdapSandbox, SandboxError, TlsFiles
from tests.fixtures.ldap import EXAMPLE_LDIF, LdapServerFactory

BASE = "dc=example,dc=com"


def _person(uid: str) -> str:
    return f"dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n\n"


def _connect(uri: str, user: str, password: str, **server_options: object) -> ldap3.Connection:
    server = ldap3.Server(uri, **server_options)  # type: ignore[arg-type]
    return ldap3.Connection(server, user, password, auto_bind=True, raise_exceptions=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serves_every_entry_of_the_example_in_a_paged_search(ldap_example: OpenLdapSandbox) -> None:
    expected_dns = sum(
        1 for line in EXAMPLE_LDIF.read_text(encoding="utf-8").splitlines() if line.startswith("dn")
    )
    with _connect(ldap_example.uri, ldap_example.bind_dn, ldap_example.password) as connection:
        entries = connection.extend.standard.paged_search(
            BASE, "(objectClass=*)", attributes=["entryUUID"], paged_size=25, generator=False
        )
    assert len(entries) == expected_dns
    assert all(entry["attributes"]["entryUUID"] for entry in entries)


def test_memberof_is_filled_for_bulk_loaded_groups(ldap_example: OpenLdapSandbox) -> None:
    with _connect(ldap_example.uri, ldap_example.bind_dn, ldap_example.password) as connection:
        connection.search(f"ou=people,{BASE}", "(uid=JSmith)", attributes=["memberOf"])
        by_dn = {entry.entry_dn: set(entry.memberOf.values) for entry in connection.entries}
    # The member value in wiki-editors differs in case and spacing from JSmith's DN.
    assert by_dn[f"uid=JSmith,ou=people,{BASE}"] == {
        f"cn=all-staff,ou=groups,{BASE}",
        f"cn=team-web,ou=groups,{BASE}",
        f"cn=wiki-editors,ou=groups,{BASE}",
    }
    assert by_dn[f"uid=jsmith,ou=contractors,ou=people,{BASE}"] == {f"cn=contractors,ou=groups,{BASE}"}


def test_memberof_follows_changes_made_after_start(ldap_server: LdapServerFactory) -> None:
    ldap = ldap_server()
    ldap.add_ldif(
        _person("newbie") + f"dn: cn=new-hires,ou=groups,{BASE}\nchangetype: modify\n"
        f"add: member\nmember: uid=newbie,ou=people,{BASE}\n"
    )
    with _connect(ldap.uri, ldap.bind_dn, ldap.password) as connection:
        connection.search(f"uid=newbie,ou=people,{BASE}", "(objectClass=*)", "BASE", attributes=["memberOf"])
        assert connection.entries[0].memberOf.values == [f"cn=new-hires,ou=groups,{BASE}"]
    ldap.modify_ldif(f"dn: uid=newbie,ou=people,{BASE}\nchangetype: delete\n")
    with _connect(ldap.uri, ldap.bind_dn, ldap.password) as connection:
        connection.search(f"cn=new-hires,ou=groups,{BASE}", "(objectClass=*)", "BASE", attributes=["member"])
        # refint removed the deleted user from the group.
        assert connection.entries[0].member.values == [f"cn=nobody,{BASE}"]


def test_the_shared_example_refuses_writes(ldap_example: OpenLdapSandbox) -> None:
    with pytest.raises(SandboxError, match="unwilling to perform"):
        ldap_example.add_ldif(_person("intruder"))


def test_a_locked_account_cannot_bind_and_shows_its_lock(ldap_example: OpenLdapSandbox) -> None:
    locked = f"uid=fmeyer,ou=people,{BASE}"
    with pytest.raises(ldap3.core.exceptions.LDAPInvalidCredentialsResult):
        _connect(ldap_example.uri, locked, "locked-password")
    with _connect(ldap_example.uri, f"uid=afischer,ou=people,{BASE}", "user-password") as connection:
        connection.search(locked, "(objectClass=*)", "BASE", attributes=["pwdAccountLockedTime"])
        assert connection.entries[0].pwdAccountLockedTime.value is not None


def test_size_limit_ends_a_paged_search_with_size_limit_exceeded(ldap_server: LdapServerFactory) -> None:
    ldap = ldap_server(size_limit=50)
    endpoint = ldap.endpoint
    with _connect(endpoint.uri, endpoint.reader_dn, endpoint.reader_password) as connection:
        entries = connection.extend.standard.paged_search(
            BASE, "(objectClass=*)", paged_size=20, generator=False
        )
        # ldap3 does not raise sizeLimitExceeded, not even with raise_exceptions: a reader must check.
        assert connection.result["description"] == "sizeLimitExceeded"
        assert len(entries) == 50
    # The root DN is exempt from limits, as on any OpenLDAP server.
    with _connect(endpoint.uri, endpoint.bind_dn, endpoint.password) as connection:
        assert len(connection.extend.standard.paged_search(BASE, "(uid=*)", generator=False)) > 50
        assert connection.result["description"] == "success"


@pytest.mark.parametrize("anonymous_read", [False, True])
def test_anonymous_reads_only_when_asked(ldap_server: LdapServerFactory, anonymous_read: bool) -> None:
    ldap = ldap_server(anonymous_read=anonymous_read)
    with ldap3.Connection(ldap.uri, auto_bind=True) as connection:
        connection.search(BASE, "(uid=JSmith)")
        assert bool(connection.entries) is anonymous_read


def test_extra_acls_come_before_the_defaults(ldap_server: LdapServerFactory) -> None:
    endpoint = ldap_server(extra_acls=[f'to dn.subtree="ou=service,{BASE}" by users none']).endpoint
    with _connect(endpoint.uri, endpoint.reader_dn, endpoint.reader_password) as connection:
        connection.search(BASE, "(uid=svc-*)")
        assert connection.entries == []
        connection.search(BASE, "(uid=JSmith)")
        assert connection.entries


def test_tls_serves_ldaps_and_starttls_with_the_given_ca(
    ldap_server: LdapServerFactory, ldap_tls_files: TlsFiles
) -> None:
    ldap = ldap_server(tls=ldap_tls_files)
    assert ldap.ldaps_uri is not None
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ldap_tls_files.ca))
    with _connect(ldap.ldaps_uri, ldap.bind_dn, ldap.password, tls=tls) as connection:
        assert connection.server.ssl
        assert connection.search(BASE, "(uid=JSmith)")
    connection = ldap3.Connection(ldap3.Server(ldap.uri, tls=tls), ldap.bind_dn, ldap.password)
    with connection:
        assert connection.start_tls()
        assert connection.bind()
        assert connection.tls_started


def test_tls_refuses_a_client_that_does_not_trust_the_ca(
    ldap_server: LdapServerFactory, ldap_tls_files: TlsFiles
) -> None:
    ldap = ldap_server(tls=ldap_tls_files)
    assert ldap.ldaps_uri is not None
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ssl.get_default_verify_paths().cafile)
    with pytest.raises(LDAPSocketOpenError):
        _connect(ldap.ldaps_uri, ldap.bind_dn, ldap.password, tls=tls)


def test_restart_keeps_port_and_data(ldap_server: LdapServerFactory) -> None:
    ldap = ldap_server()
    uri = ldap.uri
    ldap.add_ldif(_person("survivor"))
    ldap.kill()
    assert not ldap.process.running
    with pytest.raises(LDAPSocketOpenError):
        _connect(uri, ldap.bind_dn, ldap.password)
    ldap.restart()
    assert ldap.uri == uri
    with _connect(uri, ldap.bind_dn, ldap.password) as connection:
        assert connection.search(f"uid=survivor,ou=people,{BASE}", "(objectClass=*)", "BASE")


def test_stop_leaves_no_process_and_no_folder_even_when_the_block_raises() -> None:
    sandbox = OpenLdapSandbox([EXAMPLE_LDIF])
    with pytest.raises(RuntimeError, match="test failed"), sandbox:
        pid, folder = sandbox.process.pid, sandbox.folder
        assert pid is not None and _pid_alive(pid) and folder.is_dir()
        raise RuntimeError("test failed")
    assert not _pid_alive(pid)
    assert not folder.exists()
    sandbox.stop()  # a second stop is harmless


def test_with_no_ldif_the_suffix_entry_alone_exists(ldap_server: LdapServerFactory) -> None:
    ldap = ldap_server(ldif_files=())
    with _connect(ldap.uri, ldap.bind_dn, ldap.password) as connection:
        connection.search(BASE, "(objectClass=*)")
        assert [entry.entry_dn for entry in connection.entries] == [BASE]


def test_a_failed_start_shows_slapd_output_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    missing = TlsFiles(cert=tmp_path / "none.pem", key=tmp_path / "none.key", ca=tmp_path / "none-ca.pem")
    sandbox = OpenLdapSandbox(ldif_files=(), tls=missing)
    with pytest.raises(SandboxError, match=r"none-ca\.pem") as failure:
        sandbox.start()
    assert "slapd" in str(failure.value)
    assert not list(tmp_path.glob("openldap-sandbox-*"))


def test_a_bad_ldif_names_the_file_and_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ldif"
    broken.write_text(
        _person("fine") + "# no sn\ndn: uid=x,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\n"
    )
    with pytest.raises(SandboxError, match="requires attribute 'sn'") as failure:
        OpenLdapSandbox([EXAMPLE_LDIF, broken], suffix=BASE).start()
    assert f"{broken}:8" in str(failure.value)
