"""The unified long layout of ad-platform data (Fivetran ad-reporting style columns).

One row per (date_day, platform, account_id, campaign_id, channel, geo). Connectors
produce it and the warehouse stores it; both take the column names from here.
"""

from __future__ import annotations

__all__ = [
    "CONTROL_COLUMNS",
    "CONTROL_KINDS",
    "KPI_COLUMNS",
    "MEDIA_COLUMNS",
    "MEDIA_GRAIN",
    "MEDIA_METRICS",
    "MEDIA_TEXT",
]

MEDIA_TEXT = ("platform", "account_id", "campaign_id", "channel", "geo", "currency_code")
MEDIA_METRICS = ("spend", "impressions", "clicks", "conversions", "conversions_value")
MEDIA_COLUMNS = ("date_day", *MEDIA_TEXT, *MEDIA_METRICS)
MEDIA_GRAIN = ("date_day", "platform", "account_id", "campaign_id", "channel", "geo")
KPI_COLUMNS = ("date_day", "geo", "name", "value")
CONTROL_COLUMNS = ("date_day", "geo", "name", "kind", "value")
CONTROL_KINDS = ("control", "organic", "event")
