"""Append-only, hash-chained audit log (JSON lines) with its verification.

Each line is one event: UTC time, request id, tenant, key id, action, object,
outcome, and ``prev`` (the hash of the line before; 64 zeros for the first). Its
``hash`` is the SHA-256 of the canonical JSON of every other field. Editing or
removing a line breaks the chain at that line; removing lines at the end is caught
by the head file (line count and last hash), written atomically after each append.
Appends from several processes are serialized with an exclusive file lock.

Nothing secret is ever passed in: callers log key ids, never keys.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["AuditLog", "Verification", "service_audit_log", "verify"]

GENESIS = "0" * 64
_FIELDS = ("time", "request_id", "tenant", "key_id", "action", "object", "outcome")


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    ).hexdigest()


def service_audit_log(home: Path) -> AuditLog:
    """The audit log of a ``MEDIAMIX_HOME``: ``home/api/audit.log``, shared by the API,
    its workers and the commands that change what the API serves (promotions)."""
    return AuditLog(Path(home) / "api" / "audit.log")


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify`: ``ok``, lines checked, and the first problem."""

    ok: bool
    lines: int
    problem: str | None = None


class AuditLog:
    """The audit log at ``path`` (its head file beside it, ``<path>.head``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.head = self.path.with_name(self.path.name + ".head")
        self._lock = self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock, "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _read_head(self) -> tuple[int, str]:
        if not self.head.exists():
            return 0, GENESIS
        data = json.loads(self.head.read_text())
        return int(data["lines"]), str(data["hash"])

    def append(
        self,
        *,
        action: str,
        outcome: str,
        tenant: str | None = None,
        key_id: str | None = None,
        obj: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Append one event and return it (with ``prev`` and ``hash``)."""
        with self._locked():
            lines, prev = self._read_head()
            record: dict[str, Any] = {
                "time": datetime.now(UTC).isoformat(timespec="microseconds"),
                "request_id": request_id,
                "tenant": tenant,
                "key_id": key_id,
                "action": action,
                "object": obj,
                "outcome": outcome,
                "prev": prev,
            }
            record["hash"] = _digest(record)
            line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            tmp = self.head.with_name(self.head.name + ".tmp")
            tmp.write_text(json.dumps({"lines": lines + 1, "hash": record["hash"]}))
            os.replace(tmp, self.head)
        return record


def verify(path: Path) -> Verification:
    """Check the chain of the audit log at ``path`` line by line, and its head.

    Examples
    --------
    >>> import tempfile
    >>> log = AuditLog(Path(tempfile.mkdtemp()) / "audit.log")
    >>> _ = log.append(action="keys.create", outcome="ok", tenant="acme")
    >>> verify(log.path)
    Verification(ok=True, lines=1, problem=None)
    """
    log = AuditLog(path)
    prev = GENESIS
    n = 0
    if log.path.exists():
        with open(log.path, encoding="utf-8") as handle:
            for n, line in enumerate(handle, start=1):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    return Verification(False, n, f"line {n}: not JSON")
                missing = [f for f in (*_FIELDS, "prev", "hash") if f not in record]
                if missing:
                    return Verification(False, n, f"line {n}: missing {', '.join(missing)}")
                if record["prev"] != prev:
                    return Verification(
                        False, n, f"line {n}: chain broken (a line before it was removed or edited)"
                    )
                if _digest(record) != record["hash"]:
                    return Verification(False, n, f"line {n}: content does not match its hash")
                prev = record["hash"]
    lines, last = log._read_head()
    if (lines, last) != (n, prev):
        return Verification(
            False,
            n,
            f"head says {lines} line(s) ending {last[:12]}, the file has {n}: "
            "lines were removed from the end",
        )
    return Verification(True, n)
