"""``mediamix serve --tls-cert --tls-key``: HTTPS only, TLS 1.2 at least, 1.3 completed.

The certificate is generated here (a self-signed one for 127.0.0.1), never stored.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import socket
import ssl
from pathlib import Path

import pytest
from _server import env_for, free_port, mediamix, output, stop

from mediamix.cli.serve import TLS_CIPHERS

pytestmark = [
    pytest.mark.slow,
    # the test client offers TLS 1.0/1.1 on purpose, to see the server refuse them
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning"),
]


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _client(cert: Path, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    ctx.minimum_version = ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        # let this client offer the old protocol, so the refusal is the server's
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def _plain_get(port: int) -> int:
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        plain.request("GET", "/livez")
        return plain.getresponse().status
    finally:
        plain.close()


def _wait_listening(port: int, proc: object, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, output(proc)  # type: ignore[attr-defined]
            time.sleep(0.2)
    raise AssertionError("server did not start")


def test_https_only_tls12_minimum_tls13_completed_hsts(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    env = env_for(tmp_path / "home")
    port = free_port()
    server = mediamix(
        "serve", "--port", str(port), "--job-workers", "0",
        "--tls-cert", str(cert), "--tls-key", str(key),
        env=env,
    )  # fmt: skip
    try:
        _wait_listening(port, server)
        # TLS 1.3 completes, the certificate verifies, HSTS is sent
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, context=_client(cert, ssl.TLSVersion.TLSv1_3), timeout=10
        )
        conn.request("GET", "/livez")
        answer = conn.getresponse()
        assert answer.status == 200
        assert answer.getheader("strict-transport-security", "").startswith("max-age=")
        assert conn.sock.version() == "TLSv1.3"
        conn.close()
        # TLS 1.2 is still served, with a forward-secret AEAD suite
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            _client(cert, ssl.TLSVersion.TLSv1_2).wrap_socket(
                raw, server_hostname="127.0.0.1"
            ) as tls,
        ):
            suite, version, _bits = tls.cipher()
            assert version == "TLSv1.2"
            assert suite.startswith("ECDHE-")
            assert "GCM" in suite or "CHACHA20" in suite
        # TLS 1.1 and 1.0 are refused by the server
        for old in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with pytest.raises(ssl.SSLError) as refused:
                    _client(cert, old).wrap_socket(raw, server_hostname="127.0.0.1")
                # offered by the client, refused by the server (an alert or a closed socket)
                assert "NO_PROTOCOLS_AVAILABLE" not in str(refused.value)
        # plain HTTP gets no answer
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            _plain_get(port)
    finally:
        stop(server)


@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: bool
) -> None:
    import json

    env = env_for(tmp_path / "home")
    port = free_port()
    extra = ["--trusted-proxy", "127.0.0.1"] if trusted else []
    server = mediamix("serve", "--port", str(port), "--job-workers", "0", *extra, env=env)
    try:
        _wait_listening(port, server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        conn.request("GET", "/livez", headers=forwarded)
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        stop(server)
    lines = [json.loads(x) for x in output(server).splitlines() if x.startswith("{")]
    (seen,) = [x for x in lines if x.get("route") == "/livez"]
    expected = ("203.0.113.7", "https") if trusted else ("127.0.0.1", "http")
    assert (seen["client"], seen["scheme"]) == expected


def test_tls_cert_and_key_go_together(tmp_path: Path) -> None:
    from _server import run

    env = env_for(tmp_path / "home")
    done = run("serve", "--tls-cert", str(tmp_path / "cert.pem"), env=env)
    assert done.returncode == 2
    assert "--tls-key" in done.stderr
    (tmp_path / "cert.pem").write_text("x")
    done = run(
        "serve", "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "no.pem"),
        env=env,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no.pem" in done.stderr


def test_server_context_has_tls12_minimum_and_only_forward_secret_aead_suites(
    tmp_path: Path,
) -> None:
    """The context uvicorn builds from ``serve``'s options."""
    from uvicorn.config import SSL_PROTOCOL_VERSION, create_ssl_context

    cert, key = _certificate(tmp_path)
    ctx = create_ssl_context(
        cert, key, None, SSL_PROTOCOL_VERSION, ssl.CERT_NONE, None, TLS_CIPHERS
    )
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert ctx.maximum_version in (ssl.TLSVersion.MAXIMUM_SUPPORTED, ssl.TLSVersion.TLSv1_3)
    tls12 = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert tls12
    for name in tls12:
        assert name.startswith("ECDHE-"), name
        assert "GCM" in name or "CHACHA20" in name, name
