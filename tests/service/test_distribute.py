"""Distribution against local sinks on loopback: an SMTP server with STARTTLS and
login (aiosmtpd) and an HTTP sink for the Slack webhook."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mediamix.errors import InputError
from mediamix.service.distribute import DeliveryConfig, DistributeRequest, distribute_report

PASSWORD = "s3cret-smtp-pa55word"  # pragma: allowlist secret (a fake for the loopback server)
HOOK_TOKEN = "T000/B000/XXXXsecretwebhooktoken"
PDF = b"%PDF-1.4\n% a tiny stand-in for the report\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
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
    root = tmp_path_factory.mktemp("tls")
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


class _Mailbox:
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


@pytest.fixture
def smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[_Mailbox, int]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    key_file, cert_file = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    box = _Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        login = (data.login.decode(), data.password.decode())
        box.logins.append(login)
        return AuthResult(success=login == ("reports", PASSWORD))

    port = _free_port()
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


class _Sink(BaseHTTPRequestHandler):
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


@pytest.fixture
def slack() -> Iterator[tuple[type[_Sink], str]]:
    handler = type("Sink", (_Sink,), {"received": [], "fail": [0]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/services/{HOOK_TOKEN}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "report.html").write_text("<html><body><h1>Marketing mix report</h1></body></html>")
    (folder / "report.pdf").write_bytes(PDF)
    manifest = {
        "report_hash": "ab" * 32,
        "kpi": "revenue",
        "executive_summary": {
            "headline": "Paid media drove 8.0% of revenue.",
            "sections": {"What drove the KPI": ["Paid media drove 8.0% of revenue."]},
        },
    }
    (folder / "report.json").write_text(json.dumps(manifest))
    return folder


def _request(
    report: Path, tmp_path: Path, port: int, cert: Path | None, **email: Any
) -> DistributeRequest:
    config = DeliveryConfig.model_validate(
        {
            "email": {
                "host": "127.0.0.1",
                "port": port,
                "sender": "reports@example.com",
                "recipients": ["cmo@example.com", "analyst@example.com"],
                "username": "reports",
                "password_env": "TEST_SMTP_PASSWORD",  # pragma: allowlist secret (a variable name)
                **({"ca_file": str(cert)} if cert else {}),
                **email,
            },
            "slack": [{"name": "marketing", "webhook_env": "TEST_SLACK_HOOK"}],
            "link": "https://reports.example.com/weekly/report.html",
            "retries": 2,
            "backoff_seconds": 0.5,
        }
    )
    return DistributeRequest(
        report_dir=str(report), config=config, state_url=f"sqlite:///{tmp_path / 'state.db'}"
    )


def test_one_message_per_recipient_also_when_the_first_attempt_fails(
    smtp: tuple[_Mailbox, int],
    slack: tuple[type[_Sink], str],
    report: Path,
    tmp_path: Path,
    certificate: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    box, port = smtp
    sink, url = slack
    box.fail = 1  # the first message is refused with a temporary error
    sink.fail[0] = 1  # and the first webhook call answers 503
    environ = {"TEST_SMTP_PASSWORD": PASSWORD, "TEST_SLACK_HOOK": url}
    waits: list[float] = []
    request = _request(report, tmp_path, port, certificate[1])
    with caplog.at_level(logging.DEBUG):
        outcome = distribute_report(request, environ, sleep=waits.append)
    assert outcome.sent == ["cmo@example.com", "analyst@example.com", "slack:marketing"]
    assert waits == [0.5, 0.5]  # one retry for the mail, one for the webhook
    assert sorted(m["To"] for m in box.messages) == ["analyst@example.com", "cmo@example.com"]
    for message in box.messages:
        parts = {p.get_content_type(): p for p in message.walk()}
        assert "text/html" in parts
        pdf = parts["application/pdf"]
        assert pdf.get_filename() == "report.pdf"
        assert pdf.get_payload(decode=True) == PDF
        assert message["Subject"] == "Marketing mix report: revenue"
    assert {login for login in box.logins} == {("reports", PASSWORD)}
    assert len(sink.received) == 1
    payload = sink.received[0]["json"]
    assert "Paid media drove 8.0% of revenue." in payload["text"]
    assert "https://reports.example.com/weekly/report.html" in payload["text"]

    # a retried run sends nothing again
    again = distribute_report(request, environ, sleep=waits.append)
    assert again.sent == []
    assert again.skipped == outcome.sent
    assert len(box.messages) == 2
    assert len(sink.received) == 1

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "delivered to cmo@example.com" in logged
    assert PASSWORD not in logged
    assert HOOK_TOKEN not in logged
    assert url not in logged


def test_the_certificate_is_verified_by_default(
    smtp: tuple[_Mailbox, int],
    slack: tuple[type[_Sink], str],
    report: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    box, port = smtp
    _, url = slack
    environ = {"TEST_SMTP_PASSWORD": PASSWORD, "TEST_SLACK_HOOK": url}
    request = _request(report, tmp_path, port, None)  # self-signed, no CA given
    with caplog.at_level(logging.DEBUG), pytest.raises(RuntimeError) as failed:
        distribute_report(request, environ, sleep=lambda _s: None)
    assert "email to cmo@example.com: failed after 3 attempts" in str(failed.value)
    assert box.messages == []
    assert not box.logins  # the password never left before the certificate was checked
    text = str(failed.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in text
    assert HOOK_TOKEN not in text


def test_a_failing_webhook_never_shows_its_url(
    report: Path, tmp_path: Path, slack: tuple[type[_Sink], str], caplog: pytest.LogCaptureFixture
) -> None:
    sink, url = slack
    sink.fail[0] = 10
    config = DeliveryConfig.model_validate(
        {"slack": [{"name": "marketing", "webhook_env": "HOOK"}], "retries": 1}
    )
    request = DistributeRequest(
        report_dir=str(report), config=config, state_url=f"sqlite:///{tmp_path / 's.db'}"
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(RuntimeError) as failed:
        distribute_report(request, {"HOOK": url}, sleep=lambda _s: None)
    assert "slack to slack:marketing: failed after 2 attempts (HTTP 503)" in str(failed.value)
    text = str(failed.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert HOOK_TOKEN not in text


def test_missing_secret_or_pdf_sends_nothing(report: Path, tmp_path: Path) -> None:
    config = DeliveryConfig.model_validate(
        {"slack": [{"name": "marketing", "webhook_env": "NOT_SET"}]}
    )
    request = DistributeRequest(
        report_dir=str(report), config=config, state_url=f"sqlite:///{tmp_path / 's.db'}"
    )
    with pytest.raises(InputError, match="NOT_SET is not set"):
        distribute_report(request, {})
    (report / "report.pdf").unlink()
    with pytest.raises(InputError, match=r"report\.pdf"):
        distribute_report(request, {"NOT_SET": "http://127.0.0.1:9/x"})


def test_delivery_yaml_errors_name_the_file_and_field(tmp_path: Path) -> None:
    from mediamix.service.distribute import read_delivery_config

    bad = tmp_path / "delivery.yaml"
    bad.write_text(
        "email:\n  host: smtp.example.com\n  sender: a@b.c\n  recipients: ['x@y; z@w']\n"
    )
    with pytest.raises(InputError) as err:
        read_delivery_config(bad)
    problem = err.value.problems[0]
    assert problem.file == str(bad)
    assert problem.column == "email.recipients"
