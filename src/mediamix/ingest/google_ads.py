"""Google Ads: daily campaign performance over GAQL, into the unified layout.

The query (one row per campaign and day)::

    SELECT segments.date, customer.id, customer.currency_code, customer.time_zone,
           campaign.id, campaign.name, campaign.advertising_channel_type, metrics.cost_micros,
           metrics.impressions, metrics.clicks, metrics.conversions,
           metrics.conversions_value
    FROM campaign
    WHERE segments.date BETWEEN '<start>' AND '<end>'

Rows arrive as the REST/JSON form of ``GoogleAdsService.Search`` (camelCase keys,
64-bit integers as strings), page by page following ``nextPageToken``. Spend is
``cost_micros / 1e6`` in the account currency (``customer.currency_code``, kept
per row); ``segments.date`` is a day in the account time zone
(``customer.time_zone``, named in the batch origin). ``RESOURCE_EXHAUSTED`` and
transient server errors are retried with exponential backoff. Conversions are restated for days after the click, so
each fetch re-pulls a trailing window (``repull_days``) before the requested start;
the warehouse upsert replaces those days instead of duplicating them.

The transport is a small protocol (:class:`GoogleAdsTransport`) so the source can
be tested against recorded payloads; no test touches the network. The transport
over the official ``google-ads`` client (the ``connectors`` extra) is
:class:`mediamix.ingest.google_ads_client.GoogleAdsClientTransport`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from mediamix.data.unified import MEDIA_COLUMNS
from mediamix.ingest.base import FetchRequest, Retry, SourceBatch, SourceUnavailableError

__all__ = ["GAQL", "GoogleAdsSource", "GoogleAdsTransport"]

log = logging.getLogger(__name__)

GAQL = (
    "SELECT segments.date, customer.id, customer.currency_code, customer.time_zone, "
    "campaign.id, campaign.name, "
    "campaign.advertising_channel_type, metrics.cost_micros, metrics.impressions, "
    "metrics.clicks, metrics.conversions, metrics.conversions_value "
    "FROM campaign WHERE segments.date BETWEEN '{start}' AND '{end}'"
)

#: advertising_channel_type -> MMM channel, when no campaign mapping says otherwise
CHANNEL_TYPES = {
    "SEARCH": "search",
    "DISPLAY": "display",
    "VIDEO": "video",
    "SHOPPING": "shopping",
    "PERFORMANCE_MAX": "performance_max",
    "DISCOVERY": "demand_gen",
    "DEMAND_GEN": "demand_gen",
    "MULTI_CHANNEL": "app",
}


class GoogleAdsTransport(Protocol):
    """One page of ``GoogleAdsService.Search``.

    Returns the JSON page (``results``, optional ``nextPageToken``); raises
    :class:`~mediamix.ingest.base.RateLimitedError` on ``RESOURCE_EXHAUSTED``,
    :class:`~mediamix.ingest.base.TransientError` on transient server errors and
    :class:`~mediamix.ingest.base.SourceUnavailableError` (or ``OSError``) when the API
    cannot be reached or refuses the credentials.
    """

    def search(self, customer_id: str, query: str, page_token: str | None) -> Mapping[str, Any]:
        """One page of results."""
        ...


@dataclass(frozen=True)
class GoogleAdsSource:
    """Daily campaign spend of one Google Ads customer.

    Parameters
    ----------
    customer_id : str
        The customer (account) id, digits only or with dashes.
    transport : GoogleAdsTransport, optional
        How pages are fetched; without one the source is skipped as not configured.
    repull_days : int
        Days before the requested start fetched again (conversion restatements).
    channel_of : callable, optional
        Campaign row -> MMM channel; default from ``advertising_channel_type``.
    geo : str
        Geo of every row (the campaign report has no geo segment).
    retry : Retry
        Backoff on ``RESOURCE_EXHAUSTED``.
    """

    customer_id: str
    transport: GoogleAdsTransport | None = field(default=None, repr=False)
    repull_days: int = 3
    channel_of: Callable[[Mapping[str, Any]], str] | None = field(default=None, repr=False)
    geo: str = "national"
    retry: Retry = field(default_factory=Retry, repr=False)
    name: str = "google_ads"

    @property
    def account(self) -> str:
        """The customer id without dashes."""
        return self.customer_id.replace("-", "")

    def check(self) -> str | None:
        """Skip when no transport (client and credentials) is configured."""
        if self.transport is None:
            return "not configured: no Google Ads client/credentials given"
        return None

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """All pages of the period plus the trailing re-pull window."""
        if self.transport is None:
            raise SourceUnavailableError("not configured: no Google Ads client/credentials given")
        transport = self.transport
        start = request.start - dt.timedelta(days=self.repull_days)
        query = GAQL.format(start=start.isoformat(), end=request.end.isoformat())
        rows: list[dict[str, Any]] = []
        zones: set[str] = set()
        token: str | None = None
        pages = 0
        while True:
            page_token = token
            page = self.retry.call(
                f"google_ads customer {self.account}",
                functools.partial(transport.search, self.account, query, page_token),
            )
            pages += 1
            results = page.get("results", [])
            if not isinstance(results, list):
                raise SourceUnavailableError(
                    f"google_ads customer {self.account}: malformed page "
                    f"('results' is {type(results).__name__}, not a list)"
                )
            for result in results:
                rows.append(self._row(result))
                zone = (result.get("customer") or {}).get("timeZone")
                if zone:
                    zones.add(str(zone))
            token = page.get("nextPageToken") or None
            if token is None:
                break
        log.info(
            "google_ads %s: %d rows in %d page(s), %s to %s",
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
            origin=f"google_ads customer {self.account}"
            + (f" (time zone {', '.join(sorted(zones))})" if zones else ""),
        )

    def _row(self, result: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._parse(result)
        except (AttributeError, TypeError, ValueError) as exc:
            raise SourceUnavailableError(
                f"google_ads customer {self.account}: malformed result row ({exc})"
            ) from None

    def _parse(self, result: Mapping[str, Any]) -> dict[str, Any]:
        segments = result.get("segments", {})
        customer = result.get("customer", {})
        campaign = result.get("campaign", {})
        metrics = result.get("metrics", {})
        if self.channel_of is not None:
            channel = self.channel_of(result)
        else:
            kind = str(campaign.get("advertisingChannelType", "")).upper()
            channel = CHANNEL_TYPES.get(kind, kind.lower() or "google_ads")
        return {
            "date_day": segments.get("date"),
            "platform": "google_ads",
            "account_id": str(customer.get("id", self.account)),
            "campaign_id": str(campaign.get("id", "")),
            "channel": channel,
            "geo": self.geo,
            "currency_code": customer.get("currencyCode", ""),
            # int64 fields come as strings in JSON; micros are millionths of the currency
            "spend": int(metrics.get("costMicros", 0)) / 1e6,
            "impressions": float(metrics.get("impressions", 0)),
            "clicks": float(metrics.get("clicks", 0)),
            "conversions": float(metrics.get("conversions", 0.0)),
            "conversions_value": float(metrics.get("conversionsValue", 0.0)),
        }
