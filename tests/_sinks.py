"""Local delivery sinks on loopback: an SMTP server with STARTTLS and login (aiosmtpd)
and an HTTP sink standing in for a Slack incoming webhook."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PASSWORD = "s3cret-smtp-pa55word"  # pragma: allowlist secret (a fake for the loopback server)
HOOK_TOKEN = "T000/B000/XXXXsecretwebhooktoken"
LOGIN = "reports"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_certificate(root: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (key file, certificate file)."""
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
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = root / "key.pem", root / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class Mailbox:
    """aiosmtpd handler: keeps messages; refuses the first ``fail`` DATA commands."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.fail = 0
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail > 0:
            self.fail -= 1
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    """aiosmtpd on loopback: STARTTLS required, login ``reports``/``PASSWORD`` required."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    key_file, cert_file = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    box = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        login = (data.login.decode(), data.password.decode())
        box.logins.append(login)
        return AuthResult(success=login == (LOGIN, PASSWORD))

    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class Sink(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    fail: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.fail[0] > 0:
            self.fail[0] -= 1
            self.send_response(503)
        else:
            self.received.append({"path": self.path, "json": json.loads(body)})
            self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@contextmanager
def slack_sink() -> Iterator[tuple[type[Sink], str]]:
    """An HTTP sink on loopback and its webhook URL (which carries ``HOOK_TOKEN``)."""
    handler = type("Sink", (Sink,), {"received": [], "fail": [0]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/services/{HOOK_TOKEN}"
    finally:
        server.shutdown()
        server.server_close()
