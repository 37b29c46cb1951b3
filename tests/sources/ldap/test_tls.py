"""TLS against a real slapd: StartTLS and LDAPS with a CA made here; a wrong CA is refused (verify on)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.lookup import find_users
from sandbox.openldap import OpenLdapSandbox, TlsFiles
from tests.sources.ldap.directories import EXAMPLE, connect


@pytest.fixture
def tls_server(ldap_server, ldap_tls_files: TlsFiles) -> OpenLdapSandbox:
    return ldap_server(tls=ldap_tls_files)


@pytest.fixture
def other_ca(tmp_path: Path) -> Path:
    """A CA that did not sign the server's certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "other-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def assert_reads_the_directory(sandbox: OpenLdapSandbox, **extra: object) -> None:
    conn = connect(sandbox, **extra)
    try:
        found = find_users(conn, resolve_profile(EXAMPLE), "afischer")
        assert found.users["login"].tolist() == ["afischer"]
        assert conn.tls_started or conn.server.ssl
    finally:
        conn.unbind()


def test_start_tls_with_the_ca_file(tls_server: OpenLdapSandbox, ldap_tls_files: TlsFiles) -> None:
    assert_reads_the_directory(tls_server, start_tls=True, ca_cert=str(ldap_tls_files.ca))


def test_ldaps_with_the_ca_as_pem_text(tls_server: OpenLdapSandbox, ldap_tls_files: TlsFiles) -> None:
    pem = ldap_tls_files.ca.read_text(encoding="ascii")
    assert_reads_the_directory(tls_server, uri=tls_server.ldaps_uri, use_ssl=True, ca_cert=pem)


@pytest.mark.parametrize("mode", ["start_tls", "use_ssl"])
def test_a_wrong_ca_is_refused_while_verify_is_on(
    tls_server: OpenLdapSandbox, other_ca: Path, mode: str
) -> None:
    uri = tls_server.ldaps_uri if mode == "use_ssl" else tls_server.uri
    with pytest.raises(IdpReadError) as raised:
        connect(tls_server, uri=uri, ca_cert=str(other_ca), **{mode: True})
    message = str(raised.value)
    assert message.startswith(f"cannot connect to {uri}: ")
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert message.endswith(
        "check the ca_cert and verify extras of Airflow connection 'ldap_test' (ca_cert must be the CA "
        "that signed the server's certificate, whose name must match host)"
    )


def test_verify_off_accepts_any_certificate(tls_server: OpenLdapSandbox, other_ca: Path) -> None:
    assert_reads_the_directory(tls_server, start_tls=True, ca_cert=str(other_ca), verify=False)
