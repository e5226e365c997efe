"""Notifications of the scheduled path: a report is ready, a task failed or timed out.

:func:`notify` always logs. When the pipeline configuration has a ``delivery``
section it hands the notice to :mod:`mediamix.service.distribute`: a finished report
(a folder with the PDF) is emailed and posted to Slack once per recipient (the
delivery log keeps a re-run of the interval from sending it again); a notice
without a report (a failure, a timeout) is a short text, sent each time.

Secrets come from the environment or from Airflow connections: ``conn_id`` in the
delivery settings is looked up through Airflow's connection API (which also reads
``AIRFLOW_CONN_<ID>`` variables and any configured secrets backend).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.service.distribute import (
    ConnectionParts,
    DeliveryConfig,
    DistributeRequest,
    distribute_report,
    send_notice,
)

__all__ = ["airflow_connection", "notify"]

log = logging.getLogger(__name__)


def airflow_connection(conn_id: str) -> ConnectionParts:
    """Look a connection up through Airflow (metadata DB, secrets backends, env variables)."""
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    return ConnectionParts(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
    )


def notify(
    subject: str,
    *,
    lines: Sequence[str] = (),
    report: str | Path | None = None,
    delivery: DeliveryConfig | None = None,
    state_url: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Log a notice and, when ``delivery`` is configured, send it.

    Parameters
    ----------
    subject, lines : str, sequence of str
        What to tell (logged always).
    report : path, optional
        A report folder (HTML, PDF, ``report.json``): sent as the report, once per
        recipient. Without it the notice is a short text.
    delivery : DeliveryConfig, optional
        Recipients and webhooks; ``None`` logs only.
    state_url : str, optional
        The state store holding the delivery log (needed with ``report``).
    key : str, optional
        The delivery log's key of the report (the DAG run's pipeline and data
        interval): a re-run with the same key sends nothing again.

    Returns
    -------
    dict
        What happened, for the run log: ``sent`` and who received it (``to``),
        who already had the report (``skipped``), or the ``reason`` it was not sent.
        Never a secret.

    Raises
    ------
    InputError
        A secret or connection is missing (nothing sent).
    RuntimeError
        A report delivery still failed after its retries (the task fails, so a
        retry sends to those who did not get it).

    Examples
    --------
    >>> notify("plan ready", lines=["budget 100"])["sent"]
    False
    """
    log.info("notice: %s%s", subject, "".join(f"\n  {line}" for line in lines))
    if delivery is None or (delivery.email is None and not delivery.slack):
        return {"sent": False, "reason": "no delivery configured"}
    if report is None:
        outcome = send_notice(delivery, subject, lines, os.environ, connections=airflow_connection)
        return {"sent": bool(outcome.sent), "to": outcome.sent}
    if state_url is None:
        raise InputError.single("a report delivery needs the state store's URL")
    request = DistributeRequest(
        report_dir=str(report), config=delivery, state_url=state_url, delivery_key=key
    )
    outcome = distribute_report(request, os.environ, connections=airflow_connection)
    return {
        "sent": bool(outcome.sent),
        "to": outcome.sent,
        "skipped": outcome.skipped,
        "report_hash": outcome.report_hash,
    }
