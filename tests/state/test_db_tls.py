"""The job database over TLS: a server certificate from an unknown CA is refused.

A PostgreSQL server (Debian's binaries, as in tests/api/test_api_postgres.py) is
started on loopback with a certificate signed by a CA generated here; mediamix's
connection, asked for TLS with ``sslmode=require``, verifies it: refused without
that CA, accepted with it (``MEDIAMIX_TLS_CA_BUNDLE``), refused for a wrong host name.
"""

from __future__ import annotations

import datetime as dt
import glob
import ipaddress
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("psycopg")
pytestmark = pytest.mark.slow


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise AssertionError("PostgreSQL binaries not found: install Debian's postgresql")
    return Path(found[-1]).parent


def _as_owner(command: list[str]) -> None:
    line = shlex.join(command)
    argv = ["su", "postgres", "-c", line] if os.geteuid() == 0 else ["sh", "-c", line]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


def _pem_files(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.crt, server.key): a CA and a server certificate for localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mediamix test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (folder / "ca.pem", folder / "server.crt", folder / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[int, Path]]:
    """(port, ca.pem) of a PostgreSQL server that speaks TLS with a CA-signed certificate."""
    bindir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="mediamix-pgtls-"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    _as_owner(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    )
    ca, cert, key = _pem_files(base)
    for path in (cert, key):
        target = data / path.name
        shutil.copyfile(path, target)
        target.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(target, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = (
        f"-h 127.0.0.1 -p {port} -k {data} -F -c ssl=on "
        f"-c ssl_cert_file={data / cert.name} -c ssl_key_file={data / key.name}"
    )
    _as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ]
    )
    try:
        yield port, ca
    finally:
        _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def _ssl_in_use(engine) -> bool:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "select ssl from pg_stat_ssl where pid = pg_backend_pid()"
            ).scalar_one()
        )


def test_tls_to_postgres_is_verified(tls_server: tuple[int, Path]) -> None:
    from sqlalchemy.exc import OperationalError

    from mediamix.state.db import open_database

    port, ca = tls_server
    url = f"postgresql+psycopg://postgres@localhost:{port}/postgres?sslmode=require"

    # libpq alone, with sslmode=require, would accept this unknown CA without a word
    with pytest.raises(OperationalError, match="certificate verify failed"):
        open_database(url)

    engine = open_database(url, ca_bundle=ca)
    try:
        assert _ssl_in_use(engine)
    finally:
        engine.dispose()

    # the host name is checked too: the certificate names localhost and 127.0.0.1 only
    other = f"postgresql+psycopg://postgres@127.0.0.2:{port}/postgres?sslmode=require"
    with pytest.raises(OperationalError):
        open_database(other, ca_bundle=ca)


def test_the_cli_reads_the_ca_bundle_setting(
    tls_server: tuple[int, Path], tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca = tls_server
    monkeypatch.setenv("MEDIAMIX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(
        "MEDIAMIX_API_DATABASE_URL",
        f"postgresql+psycopg://postgres@localhost:{port}/postgres?sslmode=require",
    )
    refused = run_cli(["keys", "create", "--tenant", "acme", "--scope", "model:read"])
    assert refused.code != 0
    assert "certificate verify failed" in refused.err
    monkeypatch.setenv("MEDIAMIX_TLS_CA_BUNDLE", str(ca))
    accepted = run_cli(["keys", "create", "--tenant", "acme", "--scope", "model:read"])
    assert accepted.code == 0, accepted.err
    assert accepted.out.strip()
