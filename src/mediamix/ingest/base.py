"""Sources behind one interface, and the client that falls back between them.

A :class:`Source` turns a :class:`FetchRequest` (period, account) into a
:class:`SourceBatch` in the warehouse's long layouts
(:mod:`mediamix.warehouse.layout`). :class:`MediaDataClient` tries its sources in
priority order and reports which one served and why each earlier one was skipped
(not configured, library missing, network refused, rate limited past the retries).
Bad data is not a reason to fall back: an :class:`~mediamix.errors.InputError`
from a source is raised, so a broken export never silently turns into synthetic data.

Credentials never reach logs or messages: sources keep them out of ``repr`` and
errors go through :func:`redact`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

import pandas as pd

from mediamix.errors import InputError, MediamixError

__all__ = [
    "ClientResult",
    "FetchRequest",
    "MediaDataClient",
    "RateLimitedError",
    "Retry",
    "Source",
    "SourceBatch",
    "SourceUnavailableError",
    "TransientError",
    "redact",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class SourceUnavailableError(MediamixError):
    """A source cannot serve now (not configured, library missing, network down)."""


class RateLimitedError(Exception):
    """The API asked us to slow down; ``retry_after`` seconds when it said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(RateLimitedError):
    """A transient server failure (HTTP 5xx, gRPC INTERNAL/UNAVAILABLE): retried like a rate limit."""


_SECRET = re.compile(
    r"(?i)((?:access[_-]?token|refresh[_-]?token|developer[_-]?token|client[_-]?secret|"
    r"api[_-]?key|password|authorization)[\"']?\s*[:=]?\s*[\"']?(?:bearer\s+)?)"
    r"([^\s\"'&,;]+)"
)
_BEARER = re.compile(r"(?i)(bearer\s+)([^\s\"'&,;]+)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credentials replaced by ``***``.

    Known secret values are replaced wherever they appear; ``key=value`` pairs whose
    key names a credential are masked too.

    Examples
    --------
    >>> redact("GET /insights?access_token=EAAB123&fields=spend")
    'GET /insights?access_token=***&fields=spend'
    >>> redact("token abc123 refused", secrets=["abc123"])
    'token *** refused'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _SECRET.sub(lambda m: m.group(1) + "***", text)
    return _BEARER.sub(lambda m: m.group(1) + "***", text)


@dataclass(frozen=True)
class FetchRequest:
    """What to fetch: an inclusive period, optionally one account."""

    start: dt.date
    end: dt.date
    account: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError.single(
                f"period end {self.end} is before its start {self.start}", column="end"
            )


@dataclass(frozen=True)
class SourceBatch:
    """Rows of one source and account over a period, in the long layouts."""

    source: str
    account: str
    media: pd.DataFrame
    period_start: dt.date
    period_end: dt.date
    kpi: pd.DataFrame | None = None
    controls: pd.DataFrame | None = None
    origin: str | None = None


@runtime_checkable
class Source(Protocol):
    """A place media data comes from."""

    @property
    def name(self) -> str:
        """Short name used in reports and as the warehouse ``source``."""
        ...

    def check(self) -> str | None:
        """``None`` when the source can be tried, else why it cannot (no I/O needed)."""
        ...

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """The rows of the period; raises :class:`SourceUnavailableError` when it cannot serve."""
        ...


@dataclass(frozen=True)
class Retry:
    """Exponential backoff on rate limits: waits ``base * factor**k`` (capped), then gives up.

    Transient server errors (:class:`TransientError`) are retried the same way.

    ``sleep`` is injectable so tests do not wait.
    """

    attempts: int = 5
    base: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn``; on :class:`RateLimitedError` wait and retry, at most ``attempts`` times."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except RateLimitedError as exc:
                if attempt == self.attempts - 1:
                    kind = "failing" if isinstance(exc, TransientError) else "rate limited"
                    raise SourceUnavailableError(
                        f"{what}: still {kind} after {self.attempts} attempts ({redact(str(exc))})"
                    ) from None
                wait = min(self.cap, self.base * self.factor**attempt)
                if exc.retry_after is not None:
                    wait = max(wait, min(self.cap, exc.retry_after))
                kind = "transient error" if isinstance(exc, TransientError) else "rate limited"
                log.info("%s: %s, retrying in %.1f s (%s)", what, kind, wait, redact(str(exc)))
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class ClientResult:
    """The batch, the source that served it and why earlier sources were skipped."""

    batch: SourceBatch
    served_by: str
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line per source tried."""
        lines = [f"skipped {name}: {why}" for name, why in self.skipped]
        lines.append(f"served by {self.served_by}")
        return "\n".join(lines)


class MediaDataClient:
    """Try sources in priority order; the first that serves wins.

    Examples
    --------
    >>> from mediamix.ingest.sources import SyntheticSource
    >>> client = MediaDataClient([SyntheticSource(channels=2)])
    >>> result = client.fetch(FetchRequest(dt.date(2021, 1, 4), dt.date(2021, 3, 28)))
    >>> result.served_by
    'synthetic'
    """

    def __init__(self, sources: Sequence[Source]) -> None:
        if not sources:
            raise ValueError("MediaDataClient needs at least one source")
        self.sources = tuple(sources)

    def fetch(self, request: FetchRequest) -> ClientResult:
        """The first batch a source serves, with the reasons earlier ones were skipped.

        Raises
        ------
        InputError
            A source served data that is invalid (no fallback on bad data).
        SourceUnavailableError
            No source could serve; the message lists every reason.
        """
        skipped: list[tuple[str, str]] = []
        for source in self.sources:
            reason = source.check()
            if reason is not None:
                skipped.append((source.name, reason))
                log.info("source %s skipped: %s", source.name, reason)
                continue
            try:
                batch = source.fetch(request)
            except SourceUnavailableError as exc:
                skipped.append((source.name, redact(str(exc))))
                log.info("source %s skipped: %s", source.name, redact(str(exc)))
                continue
            except (OSError, ConnectionError, TimeoutError) as exc:
                why = redact(f"{type(exc).__name__}: {exc}")
                skipped.append((source.name, why))
                log.info("source %s skipped: %s", source.name, why)
                continue
            log.info("served by %s (%d media rows)", source.name, len(batch.media))
            return ClientResult(batch=batch, served_by=source.name, skipped=tuple(skipped))
        listed = "; ".join(f"{name}: {why}" for name, why in skipped)
        raise SourceUnavailableError(f"no source could serve the request ({listed})")
