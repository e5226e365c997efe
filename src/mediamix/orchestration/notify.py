"""Notifications of the scheduled path: a plan is ready, a task failed or timed out.

:func:`notify` always logs. When recipients are configured it hands the notice to
the report distribution service (email, Slack), which is a separate piece: its
sender is looked up by :func:`_sender`, the one place to wire it. Until a sender
exists, a notice for recipients is logged as not sent, with the reason, and the
task does not fail: a plan that was made should not be lost because mail is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Notice", "notify"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """What to tell: a subject, a few lines, and files to attach (paths)."""

    subject: str
    lines: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    recipients: tuple[str, ...] = field(default_factory=tuple)


def _sender() -> Callable[[Notice], Any] | None:
    """The distribution service's sender, or ``None`` while there is none.

    The seam: when the distribution service exists, return a function here that
    takes the :class:`Notice` (subject, lines, attachments, recipients) and sends it.
    """
    return None


def notify(
    subject: str,
    *,
    lines: Sequence[str] = (),
    attachments: Sequence[str] = (),
    recipients: Sequence[str] = (),
) -> dict[str, Any]:
    """Log a notice and send it to ``recipients`` through the distribution service.

    Returns what happened (``sent``, and ``reason`` when not sent), for the run log.

    Examples
    --------
    >>> notify("plan ready", lines=["budget 100"])["sent"]
    False
    """
    notice = Notice(subject, tuple(lines), tuple(attachments), tuple(recipients))
    log.info("notice: %s%s", subject, "".join(f"\n  {line}" for line in notice.lines))
    if not notice.recipients:
        return {"sent": False, "reason": "no recipients configured"}
    sender = _sender()
    if sender is None:
        log.warning(
            "notice '%s' for %d recipient(s) not sent: no distribution service is wired",
            subject,
            len(notice.recipients),
        )
        return {"sent": False, "reason": "no distribution service is wired"}
    sender(notice)
    return {"sent": True, "recipients": len(notice.recipients)}
