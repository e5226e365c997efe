"""Run by test_warehouse_store: start a load, then wait inside its transaction.

argv: HOME MARKER. Loads a 60,000-row batch; right before the commit it writes
MARKER and sleeps, so the test can SIGKILL it mid-load.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mediamix.warehouse.store import Warehouse


def main() -> None:
    home, marker = Path(sys.argv[1]), Path(sys.argv[2])
    days = pd.date_range("2023-01-02", periods=100, freq="D").strftime("%Y-%m-%d")
    n = 600
    frame = pd.DataFrame(
        {
            "date_day": np.repeat(days, n),
            "platform": "file",
            "account_id": "a",
            "campaign_id": np.tile([f"c{i}" for i in range(n)], len(days)),
            "channel": "tv",
            "geo": "national",
            "currency_code": "USD",
            "spend": 1.0,
            "impressions": np.nan,
            "clicks": np.nan,
            "conversions": np.nan,
            "conversions_value": np.nan,
        }
    )

    def hang() -> None:
        marker.write_text("in transaction")
        time.sleep(120)

    with Warehouse.writer(home) as wh:
        wh.load_batch("file", "crash", frame, before_commit=hang)


if __name__ == "__main__":
    main()
