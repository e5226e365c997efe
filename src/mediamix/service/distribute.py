"""Use case: send a finished report by email and post its summary to Slack.

``mediamix report send --config delivery.yaml REPORT_DIR`` and the pipeline call
:func:`distribute_report` with a :class:`DistributeRequest`. The report folder is
what ``mediamix report MODEL --plan plan.json --out DIR --pdf`` writes: the email
carries ``report.html`` as its body and ``report.pdf`` attached; the Slack post is
the page-1 headline (``report.json``) with a link.

The YAML names recipients and webhooks; secrets never live in it. The SMTP
password and each webhook URL are read from the environment variables the YAML
names, and only the shell reads the environment (it passes ``environ`` in). They
are never logged, and errors name the webhook or server, never the secret.

Each delivery is retried with exponential backoff; a recipient who accepted the
report is recorded in the state store's delivery log (keyed by the report's hash
and the recipient) only then, so a retried run sends to the others and never
twice to the same one. A crash between the server's acceptance and the record
can still repeat one message: the log makes "at most one per recorded run".

Example ``delivery.yaml``::

    email:
      host: smtp.example.com
      port: 587                      # STARTTLS; the certificate is verified
      sender: reports@example.com
      username: reports@example.com  # optional
      password_env: MEDIAMIX_SMTP_PASSWORD
      recipients: [cmo@example.com, analyst@example.com]
    slack:
      - name: marketing
        webhook_env: MEDIAMIX_SLACK_MARKETING
    link: https://reports.example.com/weekly/report.html
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import insert, select

from mediamix.errors import InputError
from mediamix.secrets import resolve_secret
from mediamix.state import db
from mediamix.tls import client_context

__all__ = [
    "DeliveryConfig",
    "DeliveryOutcome",
    "DistributeRequest",
    "EmailSettings",
    "SlackTarget",
    "distribute_report",
    "read_delivery_config",
]

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailSettings(_Strict):
    """SMTP server, sender and recipients; the password comes from ``password_env``."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    username: str | None = None
    password_env: str | None = None
    starttls: bool = True
    verify_certificate: bool = True
    ca_file: str | None = None
    subject: str = "Marketing mix report"
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if "@" not in v or any(ch in v for ch in "\r\n,;<> ")]
        if bad:
            raise ValueError(f"not an email address: {bad[0]!r}")
        return value


class SlackTarget(_Strict):
    """An incoming webhook, by name; its URL comes from ``webhook_env``."""

    name: str = Field(min_length=1, max_length=100)
    webhook_env: str = Field(min_length=1)


class DeliveryConfig(_Strict):
    """The ``delivery.yaml`` document (see the module docstring)."""

    email: EmailSettings | None = None
    slack: list[SlackTarget] = Field(default_factory=list)
    link: str | None = None
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=2.0, ge=0.0, le=300.0)


class DistributeRequest(_Strict):
    """Send one report folder as ``config`` says.

    Attributes
    ----------
    report_dir : str
        The folder ``mediamix report ... --out DIR --pdf`` wrote.
    config : DeliveryConfig
        Recipients, webhooks, retries.
    state_url : str
        SQLAlchemy URL of the state store that holds the delivery log.
    """

    report_dir: str
    config: DeliveryConfig
    state_url: str


class DeliveryOutcome(BaseModel):
    """Who received the report in this run, and who already had it."""

    report_hash: str
    sent: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


def read_delivery_config(path: str | Path) -> DeliveryConfig:
    """Read and check ``delivery.yaml``; problems name the file and the field."""
    import yaml
    from pydantic import ValidationError

    file = Path(path)
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError.single(f"cannot read the delivery file: {exc}", file=str(file)) from None
    try:
        return DeliveryConfig.model_validate(doc or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        column = ".".join(str(p) for p in first["loc"])
        raise InputError.single(first["msg"], file=str(file), column=column) from None


def _report(folder: Path) -> tuple[dict[str, Any], str, bytes]:
    manifest_file, html_file, pdf_file = (
        folder / "report.json",
        folder / "report.html",
        folder / "report.pdf",
    )
    for f in (manifest_file, html_file, pdf_file):
        if not f.is_file():
            raise InputError.single(
                "not a report folder with a PDF: write it with "
                "`mediamix report MODEL --plan plan.json --out DIR --pdf`",
                file=str(f),
            )
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    return manifest, html_file.read_text(encoding="utf-8"), pdf_file.read_bytes()


def _secret(environ: Mapping[str, str], name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = environ.get(name)
    if not value:
        raise InputError.single(f"{what}: the environment variable {name} is not set", column=name)
    # the variable may hold the secret or a secrets-manager reference to it
    resolved = resolve_secret(value, setting=name)
    return resolved.get_secret_value() if resolved is not None else None


def _retry(
    what: str,
    send: Callable[[], None],
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> int:
    """Call ``send`` until it works, at most ``retries + 1`` times; return the attempts."""
    for attempt in range(retries + 1):
        try:
            send()
            return attempt + 1
        except (OSError, smtplib.SMTPException, _DeliveryError) as exc:
            # the message names the server or webhook, never a password or URL
            reason = exc.reason if isinstance(exc, _DeliveryError) else type(exc).__name__
            if attempt == retries:
                raise _DeliveryError(
                    f"{what}: failed after {attempt + 1} attempts ({reason})"
                ) from None
            wait = backoff * 2**attempt
            logger.warning(
                "%s: attempt %d failed (%s); retrying in %.1fs", what, attempt + 1, reason, wait
            )
            sleep(wait)
    raise AssertionError("unreachable")


class _DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _email(
    cfg: EmailSettings, recipient: str, html: str, pdf: bytes, subject: str, password: str | None
) -> Callable[[], None]:
    def send() -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = cfg.sender, recipient, subject
        message.set_content("The report is attached as a PDF; this mail's HTML part shows it.")
        message.add_alternative(html, subtype="html")
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename="report.pdf")
        context = client_context(cfg.ca_file)
        if not cfg.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds) as smtp:
            if cfg.starttls:
                smtp.starttls(context=context)
            if cfg.username is not None and password is not None:
                smtp.login(cfg.username, password)
            smtp.send_message(message)

    return send


def _slack(url: str, payload: Mapping[str, Any], timeout: float = 30.0) -> Callable[[], None]:
    def send() -> None:
        if not url.startswith(("https://", "http://")):
            raise _DeliveryError("the webhook URL is not http(s)")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            raise _DeliveryError(f"HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise _DeliveryError(f"connection failed: {type(exc.reason).__name__}") from None

    return send


def _slack_payload(manifest: Mapping[str, Any], link: str | None) -> dict[str, Any]:
    summary = manifest.get("executive_summary") or {}
    sections = summary.get("sections") or {}
    lines = [
        f"*{heading}*\n" + "\n".join(f"- {s}" for s in body) for heading, body in sections.items()
    ]
    text = str(summary.get("headline") or "A new marketing mix report is ready.")
    if link:
        text += f"\n<{link}|Open the report>"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part[:2900]}} for part in lines
    ]
    if link:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"<{link}|Open the full report>"},
            }
        )
    return {"text": text, "blocks": blocks}


def distribute_report(
    request: DistributeRequest | Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryOutcome:
    """Email the report and post its summary to Slack, once per recipient.

    Parameters
    ----------
    request : DistributeRequest or mapping
        The report folder, the delivery settings and the state store's URL.
    environ : mapping
        Where the secrets named in the settings are read (the shell passes
        ``os.environ``).
    sleep : callable
        Waits between attempts (tests pass a recorder).

    Returns
    -------
    DeliveryOutcome
        Recipients sent to in this run and those skipped because the delivery log
        already holds them for this report.

    Raises
    ------
    InputError
        The folder is not a report with a PDF, or a secret is not set (nothing sent).
    RuntimeError
        A delivery still failed after its retries (the others were attempted and
        those that worked are logged).

    Examples
    --------
    >>> cfg = DeliveryConfig.model_validate({"slack": [{"name": "team", "webhook_env": "X"}]})
    >>> [t.name for t in cfg.slack], cfg.retries
    (['team'], 3)
    """
    req = request if isinstance(request, DistributeRequest) else DistributeRequest(**request)
    cfg = req.config
    manifest, html, pdf = _report(Path(req.report_dir))
    report_hash = str(manifest["report_hash"])
    password = (
        _secret(environ, cfg.email.password_env, "SMTP password") if cfg.email is not None else None
    )
    hooks = {t.name: _secret(environ, t.webhook_env, f"webhook {t.name}") for t in cfg.slack}
    subject = cfg.email.subject if cfg.email is not None else ""
    kpi = manifest.get("kpi")
    if kpi:
        subject = f"{subject}: {kpi}"
    jobs: list[tuple[str, str, Callable[[], None]]] = []
    if cfg.email is not None:
        for recipient in cfg.email.recipients:
            send = _email(cfg.email, recipient, html, pdf, subject, password)
            jobs.append((recipient, "email", send))
    payload = _slack_payload(manifest, cfg.link)
    for name, url in hooks.items():
        jobs.append((f"slack:{name}", "slack", _slack(str(url), payload)))
    engine = db.open_database(req.state_url)
    outcome = DeliveryOutcome(report_hash=report_hash)
    failures = []
    for recipient, channel, send in jobs:
        with engine.connect() as conn:
            done = conn.execute(
                select(db.deliveries.c.recipient).where(
                    db.deliveries.c.report_hash == report_hash,
                    db.deliveries.c.recipient == recipient,
                )
            ).first()
        if done is not None:
            logger.info("report %s already delivered to %s: skipped", report_hash[:12], recipient)
            outcome.skipped.append(recipient)
            continue
        try:
            attempts = _retry(
                f"{channel} to {recipient}", send, cfg.retries, cfg.backoff_seconds, sleep
            )
        except _DeliveryError as exc:
            logger.error("%s", exc.reason)
            failures.append(exc.reason)
            continue
        with engine.begin() as conn:
            conn.execute(
                insert(db.deliveries).values(
                    report_hash=report_hash,
                    recipient=recipient,
                    channel=channel,
                    attempts=attempts,
                    delivered_at=time.time(),
                )
            )
        logger.info(
            "report %s delivered to %s (%d attempt(s))", report_hash[:12], recipient, attempts
        )
        outcome.sent.append(recipient)
    engine.dispose()
    if failures:
        raise RuntimeError("; ".join(failures))
    return outcome
