"""Input data of the warehouse tests: a wide MMM table and a long-layout table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent

CHANNELS = ("tv", "search", "social")


def wide_frame(weeks: int = 30, geos: int = 2, seed: int = 0) -> pd.DataFrame:
    """A small weekly wide MMM table with two-decimal spend, two geos."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=weeks, freq="7D").strftime("%Y-%m-%d")
    rows = []
    for g in range(geos):
        for t, day in enumerate(dates):
            row: dict[str, object] = {"date": day, "geo": f"geo_{g + 1}"}
            row["revenue"] = round(float(rng.uniform(50_000, 90_000)), 2)
            for c in CHANNELS:
                row[f"{c}_spend"] = round(float(rng.uniform(0, 12_000)) * (t % 5 != 0), 2)
            row["tv_grps"] = round(float(rng.uniform(10, 90)), 3)
            row["price_index"] = round(100 + float(rng.normal(0, 2)), 4)
            rows.append(row)
    return pd.DataFrame(rows)


WIDE_SPEC = """\
data: wide.csv
date: date
kpi: revenue
kpi_type: revenue
geo: geo
channels:
  tv: {spend: tv_spend, exposure: tv_grps}
  search: {spend: search_spend}
  social: {spend: social_spend}
controls: [price_index]
"""


def long_frame(days: int = 21) -> pd.DataFrame:
    """A daily long-layout table of one platform, two campaigns."""
    rng = np.random.default_rng(1)
    rows = []
    for day in pd.date_range("2023-01-02", periods=days, freq="D").strftime("%Y-%m-%d"):
        for campaign in ("c1", "c2"):
            rows.append(
                {
                    "date_day": day,
                    "platform": "meta",
                    "account_id": "act_1",
                    "campaign_id": campaign,
                    "channel": "social",
                    "geo": "geo_1",
                    "currency_code": "USD",
                    "spend": round(float(rng.uniform(10, 500)), 2),
                    "impressions": int(rng.integers(1000, 50_000)),
                    "clicks": int(rng.integers(0, 500)),
                    "conversions": int(rng.integers(0, 20)),
                    "conversions_value": round(float(rng.uniform(0, 2000)), 2),
                }
            )
    return pd.DataFrame(rows)
