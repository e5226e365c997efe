"""Use case: send a finished report by email and post its summary to Slack.

``mediamix report send --config delivery.yaml REPORT_DIR`` and the pipeline call
:func:`distribute_report` with a :class:`DistributeRequest`. The report folder is
what ``mediamix report MODEL --plan plan.json --out DIR --pdf`` writes: the email
carries ``report.html`` as its body and ``report.pdf`` attached; the Slack post is
the page-1 headline (``report.json``) with a link.

The YAML names recipients and webhooks; secrets never live in it. The SMTP
password and each webhook URL are read from the environment variables the YAML
names, or from a connection named by ``conn_id`` (an Airflow connection: the DAGs
look it up through Airflow's connection API; elsewhere the connection's
``AIRFLOW_CONN_<ID>`` variable is read, as a URI or JSON). Only the shell reads the
environment (it passes ``environ`` in). Secrets are never logged, and errors name
the webhook, server or connection, never the secret.

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

or, with the SMTP server and the webhook held in connections (Airflow's ``smtp``
connection: host, port, login, password; a Slack webhook connection: the webhook
URL, or its ``T.../B.../...`` part under the host, as the password)::

    email:
      conn_id: smtp_reports
      sender: reports@example.com
      recipients: [cmo@example.com]
    slack:
      - name: marketing
        conn_id: slack_marketing

:func:`send_notice` sends a short notice (a failed or timed-out task) the same
way, without the PDF and without the delivery log: each failure is news.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import insert, select

from mediamix.errors import InputError
from mediamix.secrets import resolve_secret
from mediamix.state import db
from mediamix.tls import client_context

__all__ = [
    "ConnectionLookup",
    "ConnectionParts",
    "DeliveryConfig",
    "DeliveryOutcome",
    "DistributeRequest",
    "EmailSettings",
    "SlackTarget",
    "distribute_report",
    "env_connection",
    "read_delivery_config",
    "send_notice",
    "state_url",
]

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailSettings(_Strict):
    """SMTP server, sender and recipients.

    The password comes from ``password_env``, or with the server, port and login
    from the connection ``conn_id`` (its values win over ``host``, ``port`` and
    ``username`` written here).
    """

    host: str | None = Field(default=None, min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    username: str | None = None
    password_env: str | None = None
    conn_id: str | None = Field(default=None, min_length=1)
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

    @model_validator(mode="after")
    def _server(self) -> EmailSettings:
        if self.host is None and self.conn_id is None:
            raise ValueError("name the SMTP server: host, or conn_id (a connection)")
        if self.password_env is not None and self.conn_id is not None:
            raise ValueError("give the password by password_env or conn_id, not both")
        return self


class SlackTarget(_Strict):
    """An incoming webhook, by name; its URL comes from ``webhook_env`` or ``conn_id``."""

    name: str = Field(min_length=1, max_length=100)
    webhook_env: str | None = Field(default=None, min_length=1)
    conn_id: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> SlackTarget:
        if (self.webhook_env is None) == (self.conn_id is None):
            raise ValueError("give the webhook by exactly one of webhook_env and conn_id")
        return self


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
    delivery_key : str, optional
        What the delivery log records as sent: default the report's hash (the same
        report is sent once). The scheduled path passes its run's pipeline and data
        interval, so a re-run of an interval sends nothing again even when the
        report's bytes differ.
    """

    report_dir: str
    config: DeliveryConfig
    state_url: str
    delivery_key: str | None = Field(default=None, min_length=1, max_length=500)


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


class ConnectionParts(BaseModel):
    """The fields of a connection that delivery uses (as Airflow's connections hold them)."""

    model_config = ConfigDict(frozen=True)

    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = Field(default=None, repr=False)
    schema_: str | None = Field(default=None, alias="schema")


#: Looks a connection up by its id; raises :class:`InputError` when it does not exist.
ConnectionLookup = Callable[[str], ConnectionParts]


def env_connection(environ: Mapping[str, str]) -> ConnectionLookup:
    """Connections from ``AIRFLOW_CONN_<ID>`` variables, outside Airflow.

    The value is Airflow's connection URI (the scheme, then the login and password
    before ``@host:port/schema``, parts percent-encoded) or its JSON form
    (``{"host": ..., "password": ...}``).

    Examples
    --------
    >>> lookup = env_connection({"AIRFLOW_CONN_SMTP_MAIN": "smtp://bot@mail.example:2525"})
    >>> parts = lookup("smtp_main")
    >>> parts.host, parts.port, parts.login
    ('mail.example', 2525, 'bot')
    """

    def lookup(conn_id: str) -> ConnectionParts:
        name = f"AIRFLOW_CONN_{conn_id.upper()}"
        value = environ.get(name)
        if not value:
            raise InputError.single(
                f"connection '{conn_id}': the environment variable {name} is not set",
                column=name,
            )
        if value.lstrip().startswith("{"):
            try:
                doc = json.loads(value)
                return ConnectionParts.model_validate(
                    {k: doc.get(k) for k in ("host", "port", "login", "password", "schema")}
                )
            except ValueError:
                # the message must not quote the value: it holds the secret
                raise InputError.single(
                    f"connection '{conn_id}': {name} is not valid JSON", column=name
                ) from None
        try:
            parts = urllib.parse.urlsplit(value)
            port = parts.port
        except ValueError:
            raise InputError.single(
                f"connection '{conn_id}': {name} is not a connection URI", column=name
            ) from None
        unquote = urllib.parse.unquote
        return ConnectionParts(
            host=unquote(parts.hostname) if parts.hostname else None,
            port=port,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            schema=unquote(parts.path.lstrip("/")) or None,
        )

    return lookup


def state_url(home: str | Path, database_url: str | None = None) -> str:
    """The state store that holds the delivery log: the API's database, else ``home/api/state.db``.

    Examples
    --------
    >>> state_url("/srv/mediamix")
    'sqlite:////srv/mediamix/api/state.db'
    """
    return database_url or f"sqlite:///{Path(home) / 'api' / 'state.db'}"


def _secret(environ: Mapping[str, str], name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = environ.get(name)
    if not value:
        raise InputError.single(f"{what}: the environment variable {name} is not set", column=name)
    # the variable may hold the secret or a secrets-manager reference to it
    resolved = resolve_secret(value, setting=name)
    return resolved.get_secret_value() if resolved is not None else None


def _connection(lookup: ConnectionLookup, conn_id: str) -> ConnectionParts:
    try:
        return lookup(conn_id)
    except InputError:
        raise
    except Exception as exc:
        # Airflow's own lookup error; its type is enough, the text may quote the URI
        raise InputError.single(
            f"connection '{conn_id}' cannot be read ({type(exc).__name__})", column=conn_id
        ) from None


def _email_server(
    cfg: EmailSettings, environ: Mapping[str, str], lookup: ConnectionLookup
) -> tuple[EmailSettings, str | None]:
    """The settings with the connection's server filled in, and the password."""
    if cfg.conn_id is None:
        return cfg, _secret(environ, cfg.password_env, "SMTP password")
    conn = _connection(lookup, cfg.conn_id)
    host = conn.host or cfg.host
    if not host:
        raise InputError.single(f"connection '{cfg.conn_id}' names no host", column="email.conn_id")
    update = {"host": host, "port": conn.port or cfg.port, "username": conn.login or cfg.username}
    return cfg.model_copy(update=update), conn.password


def _webhook(target: SlackTarget, environ: Mapping[str, str], lookup: ConnectionLookup) -> str:
    if target.conn_id is None:
        return str(_secret(environ, target.webhook_env, f"webhook {target.name}"))
    conn = _connection(lookup, target.conn_id)
    token = conn.password or ""
    if token.startswith(("https://", "http://")):
        return token
    if not token or not conn.host:
        raise InputError.single(
            f"webhook {target.name}: connection '{target.conn_id}' holds no webhook URL "
            "(the URL, or the host and the token as its password)",
            column="slack.conn_id",
        )
    base = conn.host if "://" in conn.host else f"https://{conn.host}"
    return f"{base.rstrip('/')}/{token.lstrip('/')}"


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


_REPORT_TEXT = "The report is attached as a PDF; this mail's HTML part shows it."


def _email(
    cfg: EmailSettings,
    recipient: str,
    subject: str,
    password: str | None,
    *,
    text: str = _REPORT_TEXT,
    html: str | None = None,
    pdf: bytes | None = None,
) -> Callable[[], None]:
    def send() -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = cfg.sender, recipient, subject
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        if pdf is not None:
            message.add_attachment(
                pdf, maintype="application", subtype="pdf", filename="report.pdf"
            )
        context = client_context(cfg.ca_file)
        if not cfg.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP(str(cfg.host), cfg.port, timeout=cfg.timeout_seconds) as smtp:
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
    connections: ConnectionLookup | None = None,
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
    connections : callable, optional
        Looks up the connections named by ``conn_id`` (the DAGs pass Airflow's);
        default :func:`env_connection` over ``environ``.

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
    # the log's key column holds 64 hex digits: a caller's key is stored as its hash
    log_key = (
        hashlib.sha256(req.delivery_key.encode("utf-8")).hexdigest()
        if req.delivery_key is not None
        else report_hash
    )
    lookup = connections or env_connection(environ)
    email, password = (
        _email_server(cfg.email, environ, lookup) if cfg.email is not None else (None, None)
    )
    hooks = {t.name: _webhook(t, environ, lookup) for t in cfg.slack}
    subject = email.subject if email is not None else ""
    kpi = manifest.get("kpi")
    if kpi:
        subject = f"{subject}: {kpi}"
    jobs: list[tuple[str, str, Callable[[], None]]] = []
    if email is not None:
        for recipient in email.recipients:
            send = _email(email, recipient, subject, password, html=html, pdf=pdf)
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
                    db.deliveries.c.report_hash == log_key,
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
                    report_hash=log_key,
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


def send_notice(
    config: DeliveryConfig,
    subject: str,
    lines: Sequence[str],
    environ: Mapping[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    connections: ConnectionLookup | None = None,
) -> DeliveryOutcome:
    """Send a short notice (no report, no PDF) to every recipient and webhook of ``config``.

    For failures and timeouts of the scheduled path. Nothing is recorded in the
    delivery log (each failure is news). A delivery that still fails after its
    retries is logged and left: the notice must not hide the failure it reports.

    Returns
    -------
    DeliveryOutcome
        ``sent`` lists who received it; ``report_hash`` is empty.

    Raises
    ------
    InputError
        A secret or connection is not set (nothing sent).

    Examples
    --------
    >>> send_notice(DeliveryConfig(), "mediamix_ingest.fetch failed", [], {}).sent
    []
    """
    lookup = connections or env_connection(environ)
    email, password = (
        _email_server(config.email, environ, lookup) if config.email is not None else (None, None)
    )
    hooks = {t.name: _webhook(t, environ, lookup) for t in config.slack}
    body = "\n".join([subject, *lines])
    jobs: list[tuple[str, str, Callable[[], None]]] = []
    if email is not None:
        for recipient in email.recipients:
            jobs.append(
                (recipient, "email", _email(email, recipient, subject, password, text=body))
            )
    for name, url in hooks.items():
        jobs.append((f"slack:{name}", "slack", _slack(url, {"text": body[:2900]})))
    outcome = DeliveryOutcome(report_hash="")
    for recipient, channel, send in jobs:
        try:
            _retry(f"{channel} to {recipient}", send, config.retries, config.backoff_seconds, sleep)
        except _DeliveryError as exc:
            logger.error("notice not delivered: %s", exc.reason)
            continue
        logger.info("notice delivered to %s", recipient)
        outcome.sent.append(recipient)
    return outcome
