"""Meta (Facebook) Ads: daily campaign insights, into the unified layout.

The request is the Marketing API's ``GET /act_<id>/insights`` with
``level=campaign``, ``time_increment=1`` (one row per day) and ``time_range`` the
period, fields ``date_start, campaign_id, campaign_name, spend, impressions,
clicks, actions, action_values, account_currency``. Pages follow the cursor
``paging.cursors.after`` while ``paging.next`` is present. Error codes 4, 17 and
613 (and 80004, the ads-insights throttle) are rate limits: retried with
exponential backoff, waiting at least what the usage headers say when the
transport read them. Transient errors (``is_transient``, codes 1 and 2, HTTP 5xx)
are retried the same way; any other error skips the source with its code.

``spend`` arrives as a decimal string in the account currency. Conversions are
read from ``actions`` and their value from ``action_values``: the first action
type of ``conversion_actions`` that a row has is used (Meta reports one purchase
under several overlapping action types, so summing them would double count).

The transport is a small protocol (:class:`MetaTransport`), so tests use recorded
payloads and nothing touches the network. The transport over the
``facebook-business`` SDK (the ``connectors`` extra) is
:class:`mediamix.ingest.meta_client.MetaSdkTransport`. The access token stays in
the transport, out of logs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from mediamix.data.unified import MEDIA_COLUMNS
from mediamix.ingest.base import (
    FetchRequest,
    RateLimitedError,
    Retry,
    SourceBatch,
    SourceUnavailableError,
    TransientError,
)

__all__ = [
    "DEFAULT_CONVERSIONS",
    "RATE_LIMIT_CODES",
    "TRANSIENT_CODES",
    "MetaApiError",
    "MetaSource",
    "MetaTransport",
]

log = logging.getLogger(__name__)

RATE_LIMIT_CODES = frozenset({4, 17, 613, 80004})
#: "An unknown error occurred" and "Service temporarily unavailable": worth a retry
TRANSIENT_CODES = frozenset({1, 2})
FIELDS = (
    "date_start,campaign_id,campaign_name,spend,impressions,clicks,actions,action_values,"
    "account_currency"
)
DEFAULT_CONVERSIONS = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")


class MetaApiError(Exception):
    """An error object of the Graph API (``{"error": {"code": ..., "message": ...}}``)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Meta API error {code}: {message}")
        self.code = code
        self.transient = transient
        self.retry_after = retry_after


class MetaTransport(Protocol):
    """``GET <path>`` with query parameters, returning the JSON body.

    Returns the body; raises :class:`MetaApiError` for a Graph API error body and
    ``OSError`` when the API cannot be reached.
    """

    def get(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """One request."""
        ...


@dataclass(frozen=True)
class MetaSource:
    """Daily campaign insights of one ad account.

    Parameters
    ----------
    account_id : str
        Ad account id, with or without the ``act_`` prefix.
    transport : MetaTransport, optional
        How requests are made; without one the source is skipped as not configured.
    channel : str
        MMM channel of every row (default ``social``).
    conversion_actions : sequence of str
        Action types counted as conversions, in priority order.
    geo : str
        Geo of every row.
    repull_days : int
        Days before the requested start fetched again (attribution restatements).
    retry : Retry
        Backoff on rate limits.
    """

    account_id: str
    transport: MetaTransport | None = field(default=None, repr=False)
    channel: str = "social"
    conversion_actions: Sequence[str] = DEFAULT_CONVERSIONS
    geo: str = "national"
    repull_days: int = 3
    page_size: int = 500
    retry: Retry = field(default_factory=Retry, repr=False)
    name: str = "meta"

    @property
    def account(self) -> str:
        """The account id without ``act_``."""
        return self.account_id.removeprefix("act_")

    def check(self) -> str | None:
        """Skip when no transport (SDK and token) is configured."""
        if self.transport is None:
            return "not configured: no Meta access token/client given"
        return None

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """Every page of daily insights over the period plus the re-pull window."""
        if self.transport is None:
            raise SourceUnavailableError("not configured: no Meta access token/client given")
        transport = self.transport
        start = request.start - dt.timedelta(days=self.repull_days)
        params: dict[str, str] = {
            "level": "campaign",
            "time_increment": "1",
            "time_range": json.dumps(
                {"since": start.isoformat(), "until": request.end.isoformat()}
            ),
            "fields": FIELDS,
            "limit": str(self.page_size),
        }
        path = f"act_{self.account}/insights"
        rows: list[dict[str, Any]] = []
        pages = 0
        while True:
            page_params = dict(params)
            body = self.retry.call(
                f"meta account {self.account}",
                functools.partial(self._get, transport, path, page_params),
            )
            pages += 1
            for item in body.get("data", []):
                if not isinstance(item, Mapping):
                    raise SourceUnavailableError(
                        f"meta account {self.account}: malformed insights row {item!r:.80}"
                    )
                try:
                    rows.append(self._row(item))
                except (AttributeError, TypeError, ValueError) as exc:
                    raise SourceUnavailableError(
                        f"meta account {self.account}: malformed insights row ({exc})"
                    ) from None
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params["after"] = str(after)
        log.info(
            "meta %s: %d rows in %d page(s), %s to %s",
            self.account,
            len(rows),
            pages,
            start,
            request.end,
        )
        media = pd.DataFrame(rows, columns=list(MEDIA_COLUMNS))
        return SourceBatch(
            source=self.name,
            account=self.account,
            media=media,
            period_start=start,
            period_end=request.end,
            origin=f"meta account {self.account}",
        )

    @staticmethod
    def _get(transport: MetaTransport, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        try:
            body = transport.get(path, params)
        except MetaApiError as exc:
            if exc.code in RATE_LIMIT_CODES:
                raise RateLimitedError(str(exc), retry_after=exc.retry_after) from None
            if exc.transient or exc.code in TRANSIENT_CODES:
                raise TransientError(str(exc), retry_after=exc.retry_after) from None
            raise SourceUnavailableError(str(exc)) from None
        if not isinstance(body, Mapping):
            raise SourceUnavailableError(
                f"Meta API: malformed response (a {type(body).__name__}, not a JSON object)"
            )
        error = body.get("error")
        if isinstance(error, Mapping):
            code = int(error.get("code", 0))
            message = str(error.get("message", ""))
            if code in RATE_LIMIT_CODES:
                raise RateLimitedError(f"Meta API error {code}: {message}")
            if error.get("is_transient") or code in TRANSIENT_CODES:
                raise TransientError(f"Meta API error {code}: {message}")
            raise SourceUnavailableError(f"Meta API error {code}: {message}")
        if not isinstance(body.get("data", []), list):
            raise SourceUnavailableError("Meta API: malformed response ('data' is not a list)")
        return body

    def _pick(self, entries: Any) -> float:
        """Value of the first configured action type present (0 when none is)."""
        if not entries:
            return 0.0
        found = {str(e.get("action_type")): e.get("value") for e in entries}
        for action in self.conversion_actions:
            if action in found:
                return float(found[action])
        return 0.0

    def _row(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "date_day": item.get("date_start"),
            "platform": "meta",
            "account_id": self.account,
            "campaign_id": str(item.get("campaign_id", "")),
            "channel": self.channel,
            "geo": self.geo,
            "currency_code": item.get("account_currency", ""),
            "spend": item.get("spend", ""),  # a decimal string; the store parses and checks it
            "impressions": item.get("impressions"),
            "clicks": item.get("clicks"),
            "conversions": self._pick(item.get("actions", [])),
            "conversions_value": self._pick(item.get("action_values", [])),
        }
