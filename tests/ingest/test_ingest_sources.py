"""Sources and the fallback client, against recorded payloads (no network)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from _wh_data import WIDE_SPEC, wide_frame
from mediamix.errors import InputError
from mediamix.ingest.base import (
    FetchRequest,
    MediaDataClient,
    RateLimitedError,
    Retry,
    SourceUnavailableError,
    redact,
)
from mediamix.ingest.google_ads import GoogleAdsSource
from mediamix.ingest.meta import MetaApiError, MetaSource
from mediamix.ingest.sources import CachedDatasetSource, FileSource, SyntheticSource
from mediamix.service.ingest import ingest_sources
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "EAAB-recorded-token"


def _pages(name: str) -> list[dict[str, Any]]:
    return json.loads((PAYLOADS / name).read_text())["pages"]


class FakeGoogleAds:
    """Serves recorded pages; RESOURCE_EXHAUSTED on the first ``throttle`` calls."""

    def __init__(self, throttle: int = 0) -> None:
        self.pages = _pages("google_ads_search.json")
        self.throttle = throttle
        self.calls: list[tuple[str, str, str | None]] = []

    def search(self, customer_id: str, query: str, page_token: str | None) -> Mapping[str, Any]:
        self.calls.append((customer_id, query, page_token))
        if self.throttle:
            self.throttle -= 1
            raise RateLimitedError("RESOURCE_EXHAUSTED: too many requests", retry_after=None)
        return self.pages[0] if page_token is None else self.pages[1]


class FakeMeta:
    """Serves recorded insights pages; holds the token like a real client would."""

    def __init__(self, errors: list[int] | None = None) -> None:
        self.pages = _pages("meta_insights.json")
        self.errors = list(errors or [])
        self.calls: list[dict[str, str]] = []
        self._token = TOKEN

    def get(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        self.calls.append(dict(params))
        if self.errors:
            code = self.errors.pop(0)
            raise MetaApiError(code, f"request failed (access_token={self._token})")
        return self.pages[1] if params.get("after") == "MQZDZD" else self.pages[0]


def _no_wait() -> tuple[Retry, list[float]]:
    waits: list[float] = []
    return Retry(attempts=4, base=1.0, sleep=waits.append), waits


REQUEST = FetchRequest(dt.date(2024, 3, 4), dt.date(2024, 3, 2) + dt.timedelta(days=2))


def test_google_ads_pages_micros_backoff_and_repull(home: Path) -> None:
    retry, waits = _no_wait()
    fake = FakeGoogleAds(throttle=2)
    source = GoogleAdsSource("123-456-7890", transport=fake, retry=retry)
    outcome = ingest_sources(home, [source], dt.date(2024, 3, 4), dt.date(2024, 3, 4))
    assert outcome.served_by == "google_ads"
    assert waits == [1.0, 2.0]  # exponential backoff on RESOURCE_EXHAUSTED
    assert [c[2] for c in fake.calls] == [None, None, None, "CAE"]
    assert fake.calls[0][0] == "1234567890"
    # a trailing window of 3 days is pulled again for restated conversions
    assert "BETWEEN '2024-03-01' AND '2024-03-04'" in fake.calls[0][1]
    assert outcome.load.period_start == dt.date(2024, 3, 1)
    with Warehouse.reader(home) as wh:
        rows = wh.query("select * from raw_ad_reporting order by date_day, campaign_id")
    assert list(rows["spend"]) == [12.5, 40.0, 9.99, 0.0]  # cost_micros / 1e6
    assert list(rows["channel"]) == ["search", "video", "search", "video"]
    assert set(rows["currency_code"]) == {"EUR"}
    assert rows["conversions_value"].iloc[0] == 310.5


def test_google_ads_gives_up_after_the_retries(home: Path) -> None:
    retry, waits = _no_wait()
    source = GoogleAdsSource("1234567890", transport=FakeGoogleAds(throttle=10), retry=retry)
    client = MediaDataClient([source, SyntheticSource(channels=2)])
    result = client.fetch(REQUEST)
    assert result.served_by == "synthetic"
    assert result.skipped[0][0] == "google_ads"
    assert "rate limited after 4 attempts" in result.skipped[0][1]
    assert len(waits) == 3


def test_meta_cursor_paging_spend_strings_and_actions(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    retry, waits = _no_wait()
    fake = FakeMeta(errors=[17, 613])
    source = MetaSource("act_42", transport=fake, retry=retry)
    outcome = ingest_sources(home, [source], dt.date(2024, 3, 4), dt.date(2024, 3, 4))
    assert outcome.served_by == "meta"
    assert waits == [1.0, 2.0]  # codes 17 and 613 are rate limits
    first = fake.calls[0]
    assert first["time_increment"] == "1"
    assert json.loads(first["time_range"]) == {"since": "2024-03-01", "until": "2024-03-04"}
    assert fake.calls[-1]["after"] == "MQZDZD"
    with Warehouse.reader(home) as wh:
        rows = wh.query("select * from raw_ad_reporting order by date_day, campaign_id")
    assert list(rows["spend"]) == [101.37, 55.10, 98.00]
    # omni_purchase first: one purchase is reported under three action types
    assert list(rows["conversions"]) == [7.0, 0.0, 5.0]
    assert list(rows["conversions_value"]) == [530.25, 0.0, 400.0]
    assert TOKEN not in caplog.text


def test_meta_auth_error_is_skipped_with_the_token_redacted() -> None:
    retry, _ = _no_wait()
    source = MetaSource("42", transport=FakeMeta(errors=[190]), retry=retry)
    result = MediaDataClient([source, SyntheticSource(channels=2)]).fetch(REQUEST)
    assert result.served_by == "synthetic"
    name, why = result.skipped[0]
    assert name == "meta"
    assert "190" in why
    assert TOKEN not in why
    assert TOKEN not in result.describe()


def test_client_reports_why_each_source_was_skipped(tmp_path: Path) -> None:
    class Offline:
        name = "offline"

        def check(self) -> str | None:
            return None

        def fetch(self, request: FetchRequest) -> Any:
            raise ConnectionError("network unreachable")

    cache = CachedDatasetSource(
        "kaggle", "someone/mmm-data", "data.csv", spec=tmp_path / "spec.yaml", cache=tmp_path
    )
    client = MediaDataClient(
        [GoogleAdsSource("1"), MetaSource("2"), Offline(), cache, SyntheticSource(channels=2)]
    )
    result = client.fetch(REQUEST)
    assert result.served_by == "synthetic"
    reasons = dict(result.skipped)
    assert list(reasons) == ["google_ads", "meta", "offline", "kaggle"]
    assert "not configured" in reasons["google_ads"]
    assert "not configured" in reasons["meta"]
    assert "network unreachable" in reasons["offline"]
    assert "no local copy" in reasons["kaggle"]
    assert result.batch.period_start <= REQUEST.start
    assert not result.batch.media.empty


def test_cached_dataset_serves_offline_from_the_local_copy(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = cache / "huggingface" / "org__weekly-mmm"
    folder.mkdir(parents=True)
    wide_frame().to_csv(folder / "wide.csv", index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(WIDE_SPEC)

    def no_network(_: Path) -> None:
        raise AssertionError("must not download when a local copy exists")

    source = CachedDatasetSource(
        "huggingface", "org/weekly-mmm", "wide.csv", spec=spec, cache=cache, download=no_network
    )
    request = FetchRequest(dt.date(2023, 1, 2), dt.date(2023, 3, 27))
    result = MediaDataClient([source]).fetch(request)
    assert result.served_by == "huggingface"
    assert result.batch.media["date_day"].min().date() == dt.date(2023, 1, 2)
    assert result.batch.media["date_day"].max().date() <= dt.date(2023, 3, 27)
    assert set(result.batch.kpi["name"]) == {"revenue"}


def test_bad_data_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    frame = wide_frame().astype({"tv_spend": object})
    frame.loc[2, "tv_spend"] = "oops"
    data = tmp_path / "wide.csv"
    frame.to_csv(data, index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(WIDE_SPEC)
    client = MediaDataClient([FileSource(data, spec=spec), SyntheticSource()])
    with pytest.raises(InputError) as caught:
        client.fetch(FetchRequest(dt.date(2023, 1, 2), dt.date(2023, 6, 1)))
    assert (caught.value.problems[0].row, caught.value.problems[0].column) == (3, "tv_spend")


def test_no_source_left_lists_every_reason() -> None:
    with pytest.raises(SourceUnavailableError, match=r"google_ads: not configured"):
        MediaDataClient([GoogleAdsSource("1")]).fetch(REQUEST)


def test_redact_masks_credentials() -> None:
    text = 'developer_token=abc123 Authorization: Bearer ya29.secret {"refresh_token": "1//x"}'
    masked = redact(text)
    for secret in ("abc123", "ya29.secret", "1//x"):
        assert secret not in masked


def test_cli_dataset_from_local_copy_or_fallback(home: Path, cli, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(WIDE_SPEC)
    args = ["ingest", "kaggle", "someone/weekly-mmm", "--file", "wide.csv", "--spec", spec]
    missing = cli(args)
    assert missing.code == 1
    assert "no local copy of kaggle dataset 'someone/weekly-mmm'" in missing.err
    fallback = cli([*args, "--fallback-synthetic"])
    assert fallback.code == 0, fallback.err
    assert "skipped kaggle: no local copy" in fallback.err
    assert "served by synthetic" in fallback.out
    folder = home / "datasets" / "kaggle" / "someone__weekly-mmm"
    folder.mkdir(parents=True)
    wide_frame().to_csv(folder / "wide.csv", index=False)
    served = cli([*args, "--start", "2023-02-06"])
    assert served.code == 0, served.err
    assert "served by kaggle" in served.out
    assert "kaggle/someone__weekly-mmm 2023-02-06 to 2023-07-24: loaded" in served.out
