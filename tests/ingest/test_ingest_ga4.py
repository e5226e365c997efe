"""GA4: the BigQuery export (NDJSON and Parquet, real nested schema) into journeys, and
the Data API connector against responses in the API's JSON format (no network).

The export is generated from a hand-written scenario; the journeys it must give are
written by hand below, from the rules in :mod:`mediamix.ingest.ga4`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mediamix.attribution.events import check_event_log, read_event_log
from mediamix.errors import InputError
from mediamix.ingest.base import FetchRequest, MediaDataClient, Retry, SourceUnavailableError
from mediamix.ingest.ga4 import Ga4DataSource, channel_rules, read_ga4_export
from mediamix.ingest.sources import SyntheticSource

PAYLOADS = Path(__file__).parent / "payloads" / "ga4"


def _micros(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)


def _event(
    name: str,
    when: str,
    user: str,
    session: int | None,
    *,
    params: dict[str, Any] | None = None,
    collected: dict[str, Any] | None = None,
    first: tuple[str, str] | None = None,
    revenue: float | None = None,
) -> dict[str, Any]:
    """One row of ``events_YYYYMMDD`` in BigQuery's export schema."""
    values = {"ga_session_number": 1, "page_location": "https://shop.example/"}
    if session is not None:
        values["ga_session_id"] = session
    values.update(params or {})
    event_params = []
    for key, value in values.items():
        typed = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
        if isinstance(value, int):
            typed["int_value"] = value
        elif isinstance(value, float):
            typed["double_value"] = value
        else:
            typed["string_value"] = value
        event_params.append({"key": key, "value": typed})
    source, medium = first or (None, None)
    return {
        "event_date": when[:10].replace("-", ""),
        "event_timestamp": _micros(when),
        "event_name": name,
        "event_params": event_params,
        "user_pseudo_id": user,
        "traffic_source": {"name": None, "medium": medium, "source": source},
        "collected_traffic_source": {
            "manual_campaign_id": None,
            "manual_campaign_name": None,
            "manual_source": None,
            "manual_medium": None,
            "gclid": None,
            **(collected or {}),
        },
        "ecommerce": {
            "purchase_revenue": revenue,
            "transaction_id": f"t-{user}-{when}" if revenue is not None else None,
        },
        "geo": {"country": "Germany", "city": "Berlin"},
        "device": {"category": "mobile"},
    }


def scenario() -> list[dict[str, Any]]:
    e = _event
    return [
        # u1: paid search, paid social (event params), direct with a purchase; then email
        e("session_start", "2026-01-05T09:00:00", "u1", 11,
          collected={"manual_source": "google", "manual_medium": "cpc"}),
        e("page_view", "2026-01-05T09:00:05", "u1", 11,
          collected={"manual_source": "google", "manual_medium": "cpc"}),
        e("session_start", "2026-01-06T10:00:00", "u1", 12,
          params={"source": "facebook", "medium": "paid"}),
        e("scroll", "2026-01-06T10:01:00", "u1", 12),
        e("session_start", "2026-01-07T12:00:00", "u1", 13),
        e("purchase", "2026-01-07T12:10:00", "u1", 13, revenue=50.0),
        e("session_start", "2026-01-08T08:00:00", "u1", 14,
          collected={"manual_source": "mailchimp", "manual_medium": "email"}),
        # u2: first session known only from the user's acquisition (organic search);
        # second from a gclid, with two purchases (one valued by the `value` parameter)
        e("first_visit", "2026-01-05T07:00:00", "u2", 21, first=("google", "organic")),
        e("session_start", "2026-01-05T07:00:00", "u2", 21, first=("google", "organic")),
        e("session_start", "2026-01-09T18:00:00", "u2", 22, first=("google", "organic"),
          collected={"gclid": "Cj0KCQ"}),
        e("purchase", "2026-01-09T18:05:00", "u2", 22, first=("google", "organic"), revenue=20.0),
        e("purchase", "2026-01-09T18:07:00", "u2", 22, first=("google", "organic"),
          params={"value": 10.0}),
        # u3: a purchase without a session id is a session of its own
        e("purchase", "2026-01-06T11:00:00", "u3", None, revenue=5.0,
          collected={"manual_source": "bing", "manual_medium": "cpc"}),
        # u4: a partner source the default grouping does not know
        e("session_start", "2026-01-06T13:00:00", "u4", 41,
          params={"source": "partner-site", "medium": "partner"}),
    ]  # fmt: skip


#: The journeys of the scenario, by hand: (path, conversions, value), users in order.
REFERENCE = [
    ("paid_search > paid_social > direct", 1.0, 50.0),
    ("email", 0.0, 0.0),
    ("organic_search > paid_search", 1.0, 30.0),
    ("paid_search", 1.0, 5.0),
    ("partners", 0.0, 0.0),
]
RULES = channel_rules([{"channel": "partners", "medium": "partner"}])


def _ndjson(rows: list[dict[str, Any]], path: Path) -> Path:
    def as_bigquery(value: Any) -> Any:  # BigQuery writes INT64 as text in JSON exports
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return str(value)
        if isinstance(value, dict):
            return {k: as_bigquery(v) for k, v in value.items()}
        if isinstance(value, list):
            return [as_bigquery(v) for v in value]
        return value

    path.write_text("\n".join(json.dumps(as_bigquery(r)) for r in rows) + "\n")
    return path


def _parquet(rows: list[dict[str, Any]], path: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    text = pa.string()
    schema = pa.schema(
        [
            ("event_date", text),
            ("event_timestamp", pa.int64()),
            ("event_name", text),
            (
                "event_params",
                pa.list_(
                    pa.struct(
                        [
                            ("key", text),
                            (
                                "value",
                                pa.struct(
                                    [
                                        ("string_value", text),
                                        ("int_value", pa.int64()),
                                        ("float_value", pa.float64()),
                                        ("double_value", pa.float64()),
                                    ]
                                ),
                            ),
                        ]
                    )
                ),
            ),
            ("user_pseudo_id", text),
            ("traffic_source", pa.struct([("name", text), ("medium", text), ("source", text)])),
            (
                "collected_traffic_source",
                pa.struct(
                    [
                        ("manual_campaign_id", text),
                        ("manual_campaign_name", text),
                        ("manual_source", text),
                        ("manual_medium", text),
                        ("gclid", text),
                    ]
                ),
            ),
            (
                "ecommerce",
                pa.struct([("purchase_revenue", pa.float64()), ("transaction_id", text)]),
            ),
            ("geo", pa.struct([("country", text), ("city", text)])),
            ("device", pa.struct([("category", text)])),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _journeys(frame: Any) -> list[tuple[str, float, float]]:
    journeys = read_event_log(frame)
    assert journeys.value is not None
    return list(
        zip(journeys.paths(), journeys.conversions.tolist(), journeys.value.tolist(), strict=True)
    )


@pytest.mark.parametrize("kind", ["ndjson", "parquet"])
def test_export_gives_the_hand_built_journeys(kind: str, tmp_path: Path) -> None:
    rows = scenario()
    day1 = [r for r in rows if r["event_date"] <= "20260106"]
    day2 = [r for r in rows if r["event_date"] > "20260106"]
    write = _ndjson if kind == "ndjson" else _parquet
    ext = "json" if kind == "ndjson" else "parquet"
    files = [
        write(day1, tmp_path / f"events_20260105.{ext}"),
        write(day2, tmp_path / f"events_20260107.{ext}"),
    ]
    frame = read_ga4_export(files, rules=RULES)
    check_event_log(frame)
    assert list(frame.columns) == [
        "user_id",
        "timestamp",
        "channel",
        "conversion",
        "conversion_value",
    ]
    assert len(frame) == 8  # one row per session: u1 4, u2 2, u3 1, u4 1
    got = _journeys(frame)
    assert [(p, c) for p, c, _ in got] == [(p, c) for p, c, _ in REFERENCE]
    assert [v for *_, v in got] == pytest.approx([v for *_, v in REFERENCE])


def test_default_rules_leave_an_unknown_medium_unassigned(tmp_path: Path) -> None:
    frame = read_ga4_export([_ndjson(scenario(), tmp_path / "events_20260105.json")])
    assert frame.loc[frame["user_id"] == "u4", "channel"].tolist() == ["unassigned"]


def test_other_conversion_events(tmp_path: Path) -> None:
    rows = [*scenario(), _event("sign_up", "2026-01-08T08:30:00", "u1", 14)]
    frame = read_ga4_export(
        [_ndjson(rows, tmp_path / "e.json")], rules=RULES, conversion_events=["sign_up"]
    )
    assert frame["conversion"].sum() == 1
    assert frame.loc[frame["conversion"] == 1, "channel"].tolist() == ["email"]


def test_bad_rows_are_named(tmp_path: Path) -> None:
    rows = scenario()
    rows[2]["user_pseudo_id"] = None
    rows[4]["event_timestamp"] = "yesterday"
    path = _ndjson(rows, tmp_path / "events_20260105.json")
    with pytest.raises(InputError) as exc:
        read_ga4_export([path])
    where = [(p.file, p.row, p.column) for p in exc.value.problems]
    assert where == [(str(path), 3, "user_pseudo_id"), (str(path), 5, "event_timestamp")]


def test_bad_channel_rules_are_refused() -> None:
    with pytest.raises(InputError, match="rule 1: source"):
        channel_rules([{"channel": "x", "source": "("}])
    with pytest.raises(InputError, match="unknown: campaign"):
        channel_rules([{"channel": "x", "campaign": "y"}])


# -- the Data API -------------------------------------------------------------------------


class RecordedClient:
    """Answers ``run_report`` with the recorded pages, by offset; can fail first."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        from google.analytics.data_v1beta.types import RunReportResponse

        self.pages = {
            0: RunReportResponse.from_json((PAYLOADS / "run_report_page1.json").read_text()),
            2: RunReportResponse.from_json((PAYLOADS / "run_report_page2.json").read_text()),
        }
        self.requests: list[Any] = []
        self.failures = failures or []

    def run_report(self, request: Any) -> Any:
        self.requests.append(request)
        if self.failures:
            raise self.failures.pop(0)
        return self.pages[request.offset]


def _source(client: RecordedClient) -> Ga4DataSource:
    return Ga4DataSource("123456", client_factory=lambda: client, retry=Retry(sleep=lambda s: None))


def test_data_api_pages_become_kpi_and_sessions() -> None:
    pytest.importorskip("google.analytics.data_v1beta")
    client = RecordedClient()
    batch = _source(client).fetch(FetchRequest(dt.date(2026, 1, 5), dt.date(2026, 1, 6)))
    first = client.requests[0]
    assert first.property == "properties/123456"
    assert [d.name for d in first.dimensions] == ["date", "sessionDefaultChannelGroup"]
    assert (first.date_ranges[0].start_date, first.date_ranges[0].end_date) == (
        "2026-01-05",
        "2026-01-06",
    )
    assert [r.offset for r in client.requests] == [0, 2]
    kpi = {(str(r.date_day), r.name): r.value for r in batch.kpi.itertuples()}  # type: ignore[union-attr]
    assert kpi == {
        ("2026-01-05", "ga4_revenue"): pytest.approx(1090.5),
        ("2026-01-06", "ga4_revenue"): pytest.approx(99.9),
        ("2026-01-05", "ga4_key_events"): 15.0,
        ("2026-01-06", "ga4_key_events"): 2.0,
    }
    sessions = {(str(r.date_day), r.name): r.value for r in batch.controls.itertuples()}  # type: ignore[union-attr]
    assert sessions == {
        ("2026-01-05", "sessions:Paid Search"): 120.0,
        ("2026-01-05", "sessions:Organic Search"): 300.0,
        ("2026-01-06", "sessions:Direct"): 80.0,
    }
    assert batch.media.empty
    assert batch.account == "123456"


def test_data_api_quota_is_retried() -> None:
    pytest.importorskip("google.analytics.data_v1beta")
    from google.api_core import exceptions as gexc

    client = RecordedClient([gexc.ResourceExhausted("quota"), gexc.ServiceUnavailable("down")])
    batch = _source(client).fetch(FetchRequest(dt.date(2026, 1, 5), dt.date(2026, 1, 6)))
    assert len(client.requests) == 4
    assert batch.kpi is not None


def test_data_api_lands_in_the_warehouse(tmp_path: Path) -> None:
    pytest.importorskip("google.analytics.data_v1beta")
    pytest.importorskip("duckdb")
    from mediamix.service.ingest import ingest_sources

    outcome = ingest_sources(
        tmp_path, [_source(RecordedClient())], dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    )
    assert outcome.served_by == "ga4"
    assert (outcome.load.kpi_rows, outcome.load.control_rows) == (4, 3)


def test_unavailable_data_api_falls_back() -> None:
    def refuse() -> Any:
        raise SourceUnavailableError("GA4 Data API: no credentials")

    client = MediaDataClient(
        [
            Ga4DataSource(None),
            Ga4DataSource("1", client_factory=refuse),
            SyntheticSource(channels=2),
        ]
    )
    result = client.fetch(FetchRequest(dt.date(2021, 1, 4), dt.date(2021, 3, 28)))
    assert result.served_by == "synthetic"
    assert [why for _, why in result.skipped] == [
        "no GA4 property configured",
        "GA4 Data API: no credentials",
    ]


def test_cli_writes_the_event_log_and_attribute_reads_it(
    tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAMIX_HOME", str(tmp_path / "home"))
    export = _ndjson(scenario(), tmp_path / "events_20260105.json")
    rules = tmp_path / "rules.yaml"
    rules.write_text("- {channel: partners, medium: partner}\n")
    out = tmp_path / "events.csv"
    done = run_cli(["ingest", "ga4-export", export, "--channel-rules", rules, "--out", out])
    assert done.code == 0, done.err
    assert "8 session(s), 3 converting; wrote" in done.out
    credit = run_cli(["attribute", out, "--method", "last_touch", "--out", tmp_path / "lt.csv"])
    assert credit.code == 0, credit.err
    import pandas as pd

    table = pd.read_csv(tmp_path / "lt.csv").set_index("channel")["conversions"].to_dict()
    assert {k: v for k, v in table.items() if v} == {"direct": 1.0, "paid_search": 2.0}

    loaded = run_cli(["ingest", "ga4-export", export])
    assert loaded.code == 0, loaded.err
    assert "loaded into the warehouse" in loaded.out


def test_cli_bad_rules_exit_2_and_write_nothing(
    tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAMIX_HOME", str(tmp_path / "home"))
    export = _ndjson(scenario(), tmp_path / "events_20260105.json")
    rules = tmp_path / "rules.yaml"
    rules.write_text("- {channel: partners, medium: '('}\n")
    out = tmp_path / "events.csv"
    done = run_cli(["ingest", "ga4-export", export, "--channel-rules", rules, "--out", out])
    assert done.code == 2
    assert f"{rules}, row 1, column 'medium'" in done.err
    assert not out.exists()
