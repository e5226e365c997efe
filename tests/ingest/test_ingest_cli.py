"""``mediamix ingest google-ads|meta``: command wiring with transports over recorded payloads.

Transports are injected through the service's public ``TRANSPORT_FACTORIES``; the
missing-credential and missing-library paths run the real factories (no network:
they fail before any request).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mediamix.service import ingest as service
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

PAYLOADS = Path(__file__).parent / "payloads"


def _pages(name: str) -> list[dict[str, Any]]:
    return json.loads((PAYLOADS / name).read_text())["pages"]


class RecordedGoogleAds:
    def __init__(self) -> None:
        self.pages = _pages("google_ads_search.json")
        self.queries: list[str] = []

    def search(self, customer_id: str, query: str, page_token: str | None) -> Mapping[str, Any]:
        self.queries.append(query)
        return self.pages[0] if page_token is None else self.pages[1]


class RecordedMeta:
    def __init__(self) -> None:
        self.pages = _pages("meta_insights.json")

    def get(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        return self.pages[1] if params.get("after") == "MQZDZD" else self.pages[0]


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GOOGLE_ADS_DEVELOPER_TOKEN",
        "GOOGLE_ADS_CONFIGURATION_FILE_PATH",
        "META_ACCESS_TOKEN",
        "META_APP_ID",
        "META_APP_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))


def test_google_ads_command_loads_and_reloads(
    home: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = RecordedGoogleAds()
    configs: list[Path | None] = []

    def factory(config: Path | None) -> RecordedGoogleAds:
        configs.append(config)
        return fake

    monkeypatch.setitem(service.TRANSPORT_FACTORIES, "google_ads", factory)
    args = ["ingest", "google-ads", "--customer-id", "123-456-7890", "--start", "2024-03-03"]
    run = cli([*args, "--end", "2024-03-04", "--repull-days", "2", "--config", "ga.yaml"])
    assert run.code == 0, run.err
    assert configs == [Path("ga.yaml")]
    assert "served by google_ads" in run.out
    assert "google_ads/1234567890 2024-03-01 to 2024-03-04: loaded; 4 media rows" in run.out
    assert "BETWEEN '2024-03-01' AND '2024-03-04'" in fake.queries[0]
    again = cli([*args, "--end", "2024-03-04", "--repull-days", "2"])
    assert again.code == 0, again.err
    assert "unchanged" in again.out
    with Warehouse.reader(home) as wh:
        rows = wh.query("select count(*) as n, sum(spend) as s from raw_ad_reporting")
    assert int(rows["n"].iloc[0]) == 4
    assert float(rows["s"].iloc[0]) == pytest.approx(12.5 + 40.0 + 9.99)


def test_meta_command_with_conversion_actions(
    home: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(service.TRANSPORT_FACTORIES, "meta", lambda config: RecordedMeta())
    run = cli(
        [
            "ingest",
            "meta",
            "--account-id",
            "act_42",
            "--start",
            "2024-03-04",
            "--end",
            "2024-03-04",
            "--conversion-actions",
            "purchase, offsite_conversion.fb_pixel_purchase",
        ]
    )
    assert run.code == 0, run.err
    assert "meta/42 2024-03-01 to 2024-03-04: loaded; 3 media rows" in run.out
    with Warehouse.reader(home) as wh:
        rows = wh.query("select * from raw_ad_reporting order by date_day, campaign_id")
    assert list(rows["conversions"]) == [6.0, 0.0, 5.0]  # 'purchase', not omni_purchase
    assert list(rows["spend"]) == [101.37, 55.10, 98.00]


def test_missing_credentials_is_a_clear_input_error(
    home: Path, cli: Any, no_credentials: None
) -> None:
    google = cli(["ingest", "google-ads", "--customer-id", "1", "--start", "2024-03-01"])
    assert google.code == 2
    assert "GOOGLE_ADS_DEVELOPER_TOKEN" in google.err
    assert "Traceback" not in google.err
    meta = cli(["ingest", "meta", "--account-id", "act_1", "--start", "2024-03-01"])
    assert meta.code == 2
    assert "META_ACCESS_TOKEN" in meta.err
    assert not (home / "warehouse.duckdb").exists()


def test_missing_library_is_a_clear_input_error(
    home: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a None entry in sys.modules makes the import fail as if the library were absent
    monkeypatch.setitem(sys.modules, "google.ads.googleads.client", None)
    monkeypatch.setitem(sys.modules, "facebook_business.api", None)
    google = cli(["ingest", "google-ads", "--customer-id", "1", "--start", "2024-03-01"])
    assert google.code == 2
    assert "pip install 'mediamix[connectors]'" in google.err
    monkeypatch.setenv("META_ACCESS_TOKEN", "tok-never-shown")
    meta = cli(["ingest", "meta", "--account-id", "1", "--start", "2024-03-01"])
    assert meta.code == 2
    assert "facebook-business" in meta.err
    assert "tok-never-shown" not in meta.err


def test_bad_arguments_exit_2(home: Path, cli: Any) -> None:
    bad_id = cli(["ingest", "google-ads", "--customer-id", "abc", "--start", "2024-03-01"])
    assert bad_id.code == 2
    assert "--customer-id" in bad_id.err
    bad_date = cli(["ingest", "meta", "--account-id", "act_1", "--start", "03/01/2024"])
    assert bad_date.code == 2
    assert "--start" in bad_date.err
    reversed_period = cli(
        ["ingest", "meta", "--account-id", "1", "--start", "2024-03-05", "--end", "2024-03-01"]
    )
    assert reversed_period.code == 2
    assert "before its start" in reversed_period.err
