"""Distribution against local sinks on loopback: an SMTP server with STARTTLS and
login (aiosmtpd) and an HTTP sink for the Slack webhook."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _sinks import (
    HOOK_TOKEN,
    PASSWORD,
    Mailbox,
    Sink,
    slack_sink,
    smtp_server,
    write_certificate,
)
from mediamix.errors import InputError
from mediamix.service.distribute import DeliveryConfig, DistributeRequest, distribute_report

PDF = b"%PDF-1.4\n% a tiny stand-in for the report\n%%EOF\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    with smtp_server(certificate) as served:
        yield served


@pytest.fixture
def slack() -> Iterator[tuple[type[Sink], str]]:
    with slack_sink() as served:
        yield served


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
    smtp: tuple[Mailbox, int],
    slack: tuple[type[Sink], str],
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
    smtp: tuple[Mailbox, int],
    slack: tuple[type[Sink], str],
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
    report: Path, tmp_path: Path, slack: tuple[type[Sink], str], caplog: pytest.LogCaptureFixture
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


def _connections_config(cert: Path) -> DeliveryConfig:
    return DeliveryConfig.model_validate(
        {
            "email": {
                "conn_id": "smtp_reports",
                "sender": "reports@example.com",
                "recipients": ["cmo@example.com"],
                "ca_file": str(cert),
            },
            "slack": [{"name": "marketing", "conn_id": "slack_marketing"}],
            "retries": 0,
        }
    )


def test_secrets_from_airflow_connection_uris_outside_airflow(
    smtp: tuple[Mailbox, int],
    slack: tuple[type[Sink], str],
    report: Path,
    tmp_path: Path,
    certificate: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from urllib.parse import quote

    box, port = smtp
    sink, url = slack
    environ = {
        # Airflow's URI form: the password percent-encoded, the webhook URL as the password
        "AIRFLOW_CONN_SMTP_REPORTS": f"smtp://reports:{quote(PASSWORD, safe='')}@127.0.0.1:{port}",
        "AIRFLOW_CONN_SLACK_MARKETING": f"slackwebhook://:{quote(url, safe='')}@",
    }
    request = DistributeRequest(
        report_dir=str(report),
        config=_connections_config(certificate[1]),
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
    )
    with caplog.at_level(logging.DEBUG):
        outcome = distribute_report(request, environ, sleep=lambda _s: None)
    assert outcome.sent == ["cmo@example.com", "slack:marketing"]
    assert box.logins == [("reports", PASSWORD)]
    assert [m["To"] for m in box.messages] == ["cmo@example.com"]
    assert len(sink.received) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in logged
    assert HOOK_TOKEN not in logged

    # a connection that is not defined names itself, never another secret
    with pytest.raises(InputError, match="AIRFLOW_CONN_SLACK_MARKETING is not set"):
        distribute_report(
            request, {"AIRFLOW_CONN_SMTP_REPORTS": environ["AIRFLOW_CONN_SMTP_REPORTS"]}
        )


def test_a_webhook_connection_with_host_and_token_and_json_connections() -> None:
    from mediamix.service.distribute import SlackTarget, _webhook, env_connection

    target = SlackTarget(name="team", conn_id="hook")
    uri = {"AIRFLOW_CONN_HOOK": "slackwebhook://:T1%2FB2%2Fsecret@hooks.slack.com/services"}
    lookup = env_connection(uri)
    assert lookup("hook").schema_ == "services"
    # the host and the path under it come from the connection, the token from its password
    as_json = {
        "AIRFLOW_CONN_HOOK": json.dumps(
            {
                "host": "hooks.slack.com/services",
                "password": "T1/B2/secret",  # pragma: allowlist secret
            }
        )
    }
    assert (
        _webhook(target, {}, env_connection(as_json))
        == "https://hooks.slack.com/services/T1/B2/secret"  # pragma: allowlist secret
    )
    with pytest.raises(InputError, match="not valid JSON") as err:
        env_connection({"AIRFLOW_CONN_HOOK": "{not json secret"})("hook")
    assert "secret" not in str(err.value)
    with pytest.raises(ValueError, match="exactly one of webhook_env and conn_id"):
        SlackTarget(name="team", conn_id="hook", webhook_env="HOOK")


def test_a_short_notice_has_no_pdf_and_is_not_logged_as_a_delivery(
    smtp: tuple[Mailbox, int],
    slack: tuple[type[Sink], str],
    tmp_path: Path,
    certificate: tuple[Path, Path],
) -> None:
    from mediamix.service.distribute import send_notice

    box, port = smtp
    sink, url = slack
    config = _request(Path("unused"), tmp_path, port, certificate[1]).config
    environ = {"TEST_SMTP_PASSWORD": PASSWORD, "TEST_SLACK_HOOK": url}
    for _ in range(2):  # each failure is news: sent every time
        outcome = send_notice(
            config, "mediamix_ingest.transform failed", ["InputError: a dbt test failed"], environ
        )
        assert outcome.sent == ["cmo@example.com", "analyst@example.com", "slack:marketing"]
    assert len(box.messages) == 4
    message = box.messages[0]
    assert message["Subject"] == "mediamix_ingest.transform failed"
    assert [p.get_content_type() for p in message.walk()] == ["text/plain"]
    assert "a dbt test failed" in message.get_payload()
    assert "a dbt test failed" in sink.received[0]["json"]["text"]
