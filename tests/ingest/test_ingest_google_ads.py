"""The google-ads client transport, offline: a fake client serving the library's own types.

The rows, responses, pager, failures and ``GoogleAdsException`` are the real classes of
the installed ``google-ads`` library (API v26); only the RPC is replaced by a function
returning recorded responses. A real gRPC round trip is not tested here.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("google.ads.googleads")

import grpc
from google.ads.googleads.client import GoogleAdsClient
from google.ads.googleads.errors import GoogleAdsException
from google.ads.googleads.v26.errors.types.errors import GoogleAdsFailure
from google.ads.googleads.v26.services.services.google_ads_service.pagers import (
    SearchPager,
)
from google.ads.googleads.v26.services.types.google_ads_service import (
    GoogleAdsRow,
    SearchGoogleAdsResponse,
)

from mediamix.errors import InputError
from mediamix.ingest.base import (
    FetchRequest,
    MediaDataClient,
    RateLimitedError,
    Retry,
    SourceUnavailableError,
    TransientError,
)
from mediamix.ingest.google_ads import GoogleAdsSource
from mediamix.ingest.google_ads_client import (
    GoogleAdsClientTransport,
    load_google_ads_client,
    map_google_ads_error,
)
from mediamix.ingest.sources import SyntheticSource
from mediamix.service.ingest import ingest_sources
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

DEV_TOKEN = "dev-token-SECRET-123"


class RpcError(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """A failed call with a status, as grpc raises it."""

    def __init__(self, status: grpc.StatusCode, details: str = "") -> None:
        self._status, self._details = status, details

    def code(self) -> grpc.StatusCode:
        return self._status

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def initial_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


def ads_exception(status: grpc.StatusCode, kind: str, code: str, message: str) -> Exception:
    details: dict[str, Any] = {}
    if kind == "quota_error":
        details = {"quota_error_details": {"retry_delay": {"seconds": 7}}}
    failure = GoogleAdsFailure(
        errors=[{"error_code": {kind: code}, "message": message, "details": details}]
    )
    error = RpcError(status)
    return GoogleAdsException(error, error, failure, "req-42")


def row(day: str, campaign: int, kind: str, micros: int, conv: float) -> GoogleAdsRow:
    r = GoogleAdsRow()
    r.segments.date = day
    r.customer.id = 1234567890
    r.customer.currency_code = "EUR"
    r.customer.time_zone = "Europe/Berlin"
    r.campaign.id = campaign
    r.campaign.name = f"campaign {campaign}"
    r.campaign.advertising_channel_type = kind
    r.metrics.cost_micros = micros
    r.metrics.impressions = 1000
    r.metrics.clicks = 10
    r.metrics.conversions = conv
    r.metrics.conversions_value = conv * 50
    return r


PAGES = {
    "": SearchGoogleAdsResponse(
        results=[row("2024-03-01", 111, "SEARCH", 12_500_000, 4.0)], next_page_token="CAE"
    ),
    "CAE": SearchGoogleAdsResponse(
        results=[
            row("2024-03-02", 111, "SEARCH", 9_990_000, 1.0),
            row("2024-03-02", 222, "VIDEO", 0, 0.0),
        ]
    ),
}


class FakeService:
    """``GoogleAdsService`` with the RPC replaced: scripted failures, then recorded pages."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.requests: list[Any] = []

    def _rpc(self, request: Any, **_: Any) -> SearchGoogleAdsResponse:
        self.requests.append(request)
        if self.failures:
            raise self.failures.pop(0)
        return PAGES[request.page_token]

    def search(self, request: dict[str, Any]) -> SearchPager:
        pager = SearchPager(self._rpc, request, SearchGoogleAdsResponse())
        pager._response = self._rpc(pager._request)  # what the generated client does
        return pager


class FakeClient:
    developer_token = DEV_TOKEN
    credentials = None

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.service = FakeService(list(failures or []))

    def get_service(self, name: str) -> FakeService:
        assert name == "GoogleAdsService"
        return self.service


def _retry() -> tuple[Retry, list[float]]:
    waits: list[float] = []
    return Retry(attempts=4, base=1.0, sleep=waits.append), waits


def test_pages_rows_and_backoff_through_the_client(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failures = [
        ads_exception(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota_error", "RESOURCE_EXHAUSTED", "x"),
        RpcError(grpc.StatusCode.UNAVAILABLE, "connection reset"),
        ads_exception(grpc.StatusCode.INTERNAL, "internal_error", "INTERNAL_ERROR", "oops"),
    ]
    client = FakeClient(failures)
    retry, waits = _retry()
    source = GoogleAdsSource(
        "123-456-7890", transport=GoogleAdsClientTransport(client), retry=retry, repull_days=2
    )
    outcome = ingest_sources(home, [source], dt.date(2024, 3, 3), dt.date(2024, 3, 4))
    assert outcome.served_by == "google_ads"
    # quota error: the server's retry delay (7 s) beats the 1 s backoff; then 2 s, 4 s
    assert waits == [7.0, 2.0, 4.0]
    requests = client.service.requests
    assert [r.page_token for r in requests] == ["", "", "", "", "CAE"]
    assert requests[0].customer_id == "1234567890"
    assert "BETWEEN '2024-03-01' AND '2024-03-04'" in requests[0].query
    assert "customer.time_zone" in requests[0].query
    with Warehouse.reader(home) as wh:
        rows = wh.query("select * from raw_ad_reporting order by date_day, campaign_id")
    assert list(rows["spend"]) == [12.5, 9.99, 0.0]  # cost_micros / 1e6
    assert list(rows["channel"]) == ["search", "search", "video"]
    assert set(rows["currency_code"]) == {"EUR"}
    assert list(rows["conversions_value"]) == [200.0, 50.0, 0.0]
    assert DEV_TOKEN not in caplog.text


def test_time_zone_is_named_in_the_batch_origin() -> None:
    source = GoogleAdsSource("1234567890", transport=GoogleAdsClientTransport(FakeClient()))
    result = MediaDataClient([source]).fetch(FetchRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2)))
    assert result.batch.origin == "google_ads customer 1234567890 (time zone Europe/Berlin)"


def test_auth_failure_is_skipped_with_codes_and_no_secret() -> None:
    failure = ads_exception(
        grpc.StatusCode.UNAUTHENTICATED,
        "authentication_error",
        "NOT_ADS_USER",
        f"developer token {DEV_TOKEN} is not approved",
    )
    retry, waits = _retry()
    source = GoogleAdsSource(
        "1", transport=GoogleAdsClientTransport(FakeClient([failure])), retry=retry
    )
    result = MediaDataClient([source, SyntheticSource(channels=2)]).fetch(
        FetchRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    )
    assert result.served_by == "synthetic"
    why = result.skipped[0][1]
    assert "UNAUTHENTICATED" in why
    assert "authenticationError=NOT_ADS_USER" in why
    assert "req-42" in why
    assert DEV_TOKEN not in why
    assert waits == []  # not retried


def test_error_mapping() -> None:
    limited = map_google_ads_error(
        ads_exception(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota_error", "RESOURCE_EXHAUSTED", "q")
    )
    assert isinstance(limited, RateLimitedError)
    assert not isinstance(limited, TransientError)
    assert limited.retry_after == 7.0
    assert isinstance(
        map_google_ads_error(RpcError(grpc.StatusCode.DEADLINE_EXCEEDED)), TransientError
    )
    bad_query = map_google_ads_error(
        ads_exception(grpc.StatusCode.INVALID_ARGUMENT, "query_error", "UNRECOGNIZED_FIELD", "bad")
    )
    assert type(bad_query) is SourceUnavailableError


def test_malformed_page_is_a_clear_skip() -> None:
    class Broken:
        def search(self, customer_id: str, query: str, page_token: str | None) -> Any:
            return {"results": [{"metrics": {"costMicros": "twelve"}}]}

    source = GoogleAdsSource("1", transport=Broken())
    with pytest.raises(SourceUnavailableError, match="malformed result row"):
        MediaDataClient([source]).fetch(FetchRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2)))


def test_configuration_from_file_env_or_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "GOOGLE_ADS_DEVELOPER_TOKEN",
        "GOOGLE_ADS_CLIENT_ID",
        "GOOGLE_ADS_CLIENT_SECRET",
        "GOOGLE_ADS_REFRESH_TOKEN",
        "GOOGLE_ADS_CONFIGURATION_FILE_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(InputError, match="GOOGLE_ADS_DEVELOPER_TOKEN") as missing:
        load_google_ads_client()
    assert "google-ads.yaml" in str(missing.value)
    with pytest.raises(InputError, match="does not exist"):
        load_google_ads_client(tmp_path / "nope.yaml")
    config = tmp_path / "google-ads.yaml"
    config.write_text(
        f"developer_token: {DEV_TOKEN}\nclient_id: cid\nclient_secret: csecret\n"
        "refresh_token: rtoken\nuse_proto_plus: true\n"
    )
    loaded: list[str] = []

    def load_from_storage(path: str, version: str | None = None) -> str:
        loaded.append(path)  # the real one refreshes the OAuth token: network
        return "client"

    monkeypatch.setattr(GoogleAdsClient, "load_from_storage", load_from_storage)
    assert load_google_ads_client(config) == "client"
    assert loaded == [str(config)]
    assert load_google_ads_client() == "client"  # ~/google-ads.yaml, the library's default
    assert loaded[-1] == str(config)
    monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", DEV_TOKEN)
    with pytest.raises(InputError, match="incomplete") as incomplete:
        load_google_ads_client()  # env has a token but no OAuth client
    assert DEV_TOKEN not in str(incomplete.value)


def test_refused_credentials_while_loading_are_unavailable_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.auth.exceptions import RefreshError

    def refuse(path: str, version: str | None = None) -> None:
        # what the library raises when the refresh token is revoked (it refreshes on load)
        raise RefreshError("invalid_grant: refresh_token=1//revoked-secret")

    monkeypatch.setattr(GoogleAdsClient, "load_from_storage", refuse)
    config = tmp_path / "google-ads.yaml"
    config.write_text("developer_token: x\n")
    with pytest.raises(SourceUnavailableError, match="could not be refreshed") as caught:
        load_google_ads_client(config)
    assert "1//revoked-secret" not in str(caught.value)
