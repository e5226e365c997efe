"""The facebook-business SDK transport against a local fake Graph API on 127.0.0.1.

The real SDK (session, ``FacebookAdsApi.call``, ``FacebookRequestError``) makes real
HTTP requests; only the server is fake. It serves the recorded insights pages with
their paging cursors, a throttling error (code 17) with usage headers, a 500 with a
Graph error object, a 502 with an HTML body, and malformed bodies.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("facebook_business")

from mediamix.errors import InputError
from mediamix.ingest.base import FetchRequest, MediaDataClient, Retry
from mediamix.ingest.meta import MetaSource
from mediamix.ingest.meta_client import MetaCredentials, MetaSdkTransport, read_usage
from mediamix.ingest.sources import SyntheticSource
from mediamix.service.ingest import ingest_sources
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "EAAB-local-secret-token"
APP_SECRET = "app-secret-xyz"  # pragma: allowlist secret -- a fake for the local test server
PAGES = json.loads((PAYLOADS / "meta_insights.json").read_text())["pages"]

Reply = tuple[int, dict[str, str], str]


def graph_error(code: int, message: str, transient: bool = False) -> str:
    return json.dumps(
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "is_transient": transient,
            }
        }
    )


class FakeGraph:
    """A Graph API on 127.0.0.1: scripted replies first, then the recorded pages."""

    def __init__(self, script: list[Reply]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.auth: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append((url.path, params))
                fake.auth.append(self.headers.get("Authorization"))
                status, headers, body = fake.reply(params)
                data = body.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, params: dict[str, str]) -> Reply:
        if self.script:
            return self.script.pop(0)
        page = PAGES[1] if params.get("after") == "MQZDZD" else PAGES[0]
        return 200, {"Content-Type": "application/json"}, json.dumps(page)


@pytest.fixture
def graph() -> Iterator[Any]:
    servers: list[FakeGraph] = []

    def start(script: list[Reply]) -> FakeGraph:
        server = FakeGraph(script)
        server.thread.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def transport(server: FakeGraph, waits: list[float]) -> MetaSdkTransport:
    return MetaSdkTransport(
        MetaCredentials(access_token=TOKEN, app_id="123", app_secret=APP_SECRET),
        graph_url=server.url,
        timeout=5.0,
        sleep=waits.append,
    )


def test_paging_throttling_5xx_and_usage_through_the_sdk(
    graph: Any, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    buc = json.dumps(
        {"42": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 1}]}
    )
    server = graph(
        [
            (
                400,
                {"x-business-use-case-usage": buc},
                graph_error(17, "User request limit reached", True),
            ),
            (500, {}, graph_error(1, "An unknown error occurred", True)),
            (
                200,
                {
                    "x-ad-account-usage": json.dumps(
                        {"acc_id_util_pct": 95.0, "reset_time_duration": 30}
                    )
                },
                json.dumps(PAGES[0]),
            ),
            (502, {"Content-Type": "text/html"}, "<html>Bad Gateway</html>"),
        ]
    )
    retry_waits: list[float] = []
    pauses: list[float] = []
    source = MetaSource(
        "act_42",
        transport=transport(server, pauses),
        retry=Retry(attempts=4, base=1.0, cap=600.0, sleep=retry_waits.append),
    )
    outcome = ingest_sources(home, [source], dt.date(2024, 3, 4), dt.date(2024, 3, 4))
    assert outcome.served_by == "meta"
    # code 17: the business use case header says 1 minute; then 2 s for the 500,
    # 1 s for the 502 (a new page starts its own backoff)
    assert retry_waits == [60.0, 2.0, 1.0]
    assert pauses == [60.0]  # 95% account usage after page 1: pause (at least a minute)
    paths = [p for p, _ in server.requests]
    assert all(p.endswith("/act_42/insights") for p in paths)
    first = server.requests[0][1]
    assert "access_token" not in first  # not in URLs, which HTTP libraries log
    assert set(server.auth) == {f"OAuth {TOKEN}"}
    assert "appsecret_proof" in first
    assert first["level"] == "campaign"
    assert first["time_increment"] == "1"
    assert json.loads(first["time_range"]) == {"since": "2024-03-01", "until": "2024-03-04"}
    assert [r[1].get("after") for r in server.requests] == [None, None, None, "MQZDZD", "MQZDZD"]
    with Warehouse.reader(home) as wh:
        rows = wh.query("select * from raw_ad_reporting order by date_day, campaign_id")
    assert list(rows["spend"]) == [101.37, 55.10, 98.00]
    assert list(rows["conversions"]) == [7.0, 0.0, 5.0]
    assert TOKEN not in caplog.text
    assert APP_SECRET not in caplog.text


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ((200, {}, '{"data": [ {"spend": "1.0"'), "malformed response"),
        ((200, {}, json.dumps({"data": {"spend": "1"}})), "'data' is not a list"),
        ((200, {}, json.dumps({"data": ["oops"]})), "malformed insights row"),
        ((400, {}, graph_error(190, f"Invalid OAuth access token {TOKEN}")), "190"),
    ],
)
def test_malformed_or_refused_responses_skip_the_source(
    graph: Any, reply: Reply, reason: str
) -> None:
    server = graph([reply])
    waits: list[float] = []
    source = MetaSource("42", transport=transport(server, waits), retry=Retry(sleep=waits.append))
    result = MediaDataClient([source, SyntheticSource(channels=2)]).fetch(
        FetchRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    )
    assert result.served_by == "synthetic"
    name, why = result.skipped[0]
    assert name == "meta"
    assert reason in why
    assert TOKEN not in why
    assert waits == []  # none of these is retried
    assert len(server.requests) == 1


def test_server_down_is_retried_then_skipped(graph: Any) -> None:
    server = graph([])
    url = server.url
    server.server.shutdown()
    server.server.server_close()
    waits: list[float] = []
    sdk = MetaSdkTransport(MetaCredentials(TOKEN), graph_url=url, timeout=2.0)
    source = MetaSource("42", transport=sdk, retry=Retry(attempts=2, sleep=waits.append))
    result = MediaDataClient([source, SyntheticSource(channels=2)]).fetch(
        FetchRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    )
    assert result.served_by == "synthetic"
    assert "still failing after 2 attempts" in result.skipped[0][1]
    assert waits == [1.0]
    assert TOKEN not in result.describe()


def test_read_usage_headers() -> None:
    assert read_usage({}).percent == 0.0
    usage = read_usage(
        {
            "x-fb-ads-insights-throttle": '{"app_id_util_pct": 12, "acc_id_util_pct": 40}',
            "x-app-usage": '{"call_count": 5, "total_time": 7, "total_cputime": 3}',
            "x-ad-account-usage": "not json",
        }
    )
    assert usage.percent == 40.0
    assert usage.regain_seconds == 0.0


def test_credentials_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("META_ACCESS_TOKEN", "META_APP_ID", "META_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InputError, match="META_ACCESS_TOKEN"):
        MetaCredentials.load()
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    creds = MetaCredentials.load()
    assert creds.access_token == TOKEN
    assert TOKEN not in repr(creds)
    config = tmp_path / "meta.json"
    config.write_text(json.dumps({"access_token": "tok2", "app_id": "1", "app_secret": "s"}))
    assert MetaCredentials.load(config).secrets == ("tok2", "s")
    config.write_text("{}")
    with pytest.raises(InputError, match="access_token"):
        MetaCredentials.load(config)
    with pytest.raises(InputError, match="does not exist"):
        MetaCredentials.load(tmp_path / "nope.json")
