"""Google Analytics 4: the BigQuery export read into an event log, and the Data API.

**The BigQuery export** (tables ``events_YYYYMMDD``, exported as newline-delimited
JSON or Parquet) holds one row per event: ``event_name``, ``event_timestamp``
(microseconds since the epoch, UTC; BigQuery writes INT64 as text in JSON),
``user_pseudo_id``, ``event_params`` (a list of ``{key, value: {string_value,
int_value, float_value, double_value}}``), ``collected_traffic_source``
(``manual_source``, ``manual_medium``, ``gclid`` ... collected on the event),
``traffic_source`` (the user's first acquisition: ``source``, ``medium``, ``name``)
and ``ecommerce`` (``purchase_revenue``, ``transaction_id``).

:func:`read_ga4_export` turns it into the attribution event log (``user_id``,
``timestamp``, ``channel``, ``conversion``, ``conversion_value``), one touch per
session, by these rules:

* a session is the user's events with one ``ga_session_id`` event parameter (events
  without one form a session of their own); its touch time is its first event;
* its source and medium are those of its first event that has any, looked up in
  this order: ``collected_traffic_source.manual_source/manual_medium``, the
  ``source``/``medium`` event parameters, a ``gclid`` (``google``/``cpc``); a
  session with none is ``(direct)``/``(none)``. ``traffic_source`` is the user's
  first acquisition, not the session's, so it is used only for the user's first
  session when nothing else is known;
* the channel comes from source and medium through :data:`DEFAULT_CHANNEL_RULES`
  (a simplified default channel grouping; rules of your own go first, see
  :func:`channel_rules`);
* a session with one or more conversion events (``purchase`` unless told
  otherwise) is a converting touch whose value is the sum of their revenue
  (``ecommerce.purchase_revenue``, else the ``value`` parameter).

**The Data API** (:class:`Ga4DataSource`, the ``google-analytics-data`` client of the
``connectors`` extra): daily sessions, key events and revenue by
``sessionDefaultChannelGroup`` for a property, landed as KPI rows
(``ga4_revenue``, ``ga4_key_events``) and organic driver rows (``sessions:<group>``).
Without the library or credentials the source says it is unavailable and the
:class:`~mediamix.ingest.base.MediaDataClient` falls back to the next source.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mediamix.data.unified import CONTROL_COLUMNS, KPI_COLUMNS, MEDIA_COLUMNS
from mediamix.errors import InputError, Problem
from mediamix.ingest.base import (
    FetchRequest,
    RateLimitedError,
    Retry,
    SourceBatch,
    SourceUnavailableError,
    TransientError,
)

__all__ = [
    "DEFAULT_CHANNEL_RULES",
    "ChannelRule",
    "Ga4DataSource",
    "channel_rules",
    "map_channel",
    "read_ga4_export",
    "report_frame",
]

log = logging.getLogger(__name__)

_SEARCH = r"google|bing|yahoo|baidu|duckduckgo|yandex|ecosia|naver"
_SOCIAL = r"facebook|fb|instagram|ig|meta|tiktok|linkedin|twitter|t\.co|x|pinterest|snapchat|reddit"
_VIDEO = r"youtube|vimeo|twitch"
_PAID = r".*cp.*|ppc|retargeting|paid.*"


@dataclass(frozen=True)
class ChannelRule:
    """Source and medium patterns (full, case-insensitive regular expressions) to a channel.

    A pattern of ``None`` matches anything.

    Examples
    --------
    >>> ChannelRule("newsletter", medium="email").matches("mailchimp", "Email")
    True
    """

    channel: str
    source: str | None = None
    medium: str | None = None

    def matches(self, source: str, medium: str) -> bool:
        """Whether both patterns match the whole source and medium."""
        return all(
            pattern is None or re.fullmatch(pattern, text, flags=re.IGNORECASE) is not None
            for pattern, text in ((self.source, source), (self.medium, medium))
        )


#: The default grouping, first match wins: a simplified form of GA4's default channel
#: group definitions (by source and medium only; GA4 also reads campaign names and
#: source categories).
DEFAULT_CHANNEL_RULES: tuple[ChannelRule, ...] = (
    ChannelRule("direct", source=r"\(direct\)", medium=r"\(none\)|\(not set\)"),
    ChannelRule("paid_search", source=_SEARCH, medium=_PAID),
    ChannelRule("paid_social", source=_SOCIAL, medium=_PAID),
    ChannelRule("paid_video", source=_VIDEO, medium=_PAID),
    ChannelRule("display", medium=r"display|banner|expandable|interstitial|cpm"),
    ChannelRule("paid_other", medium=_PAID),
    ChannelRule("organic_search", source=_SEARCH, medium=r"organic|referral|\(none\)"),
    ChannelRule("organic_social", source=_SOCIAL),
    ChannelRule("organic_social", medium=r"social|social-network|social-media|sm"),
    ChannelRule("organic_video", source=_VIDEO),
    ChannelRule("email", medium=r"e-?mail|newsletter"),
    ChannelRule("affiliates", medium=r"affiliates?"),
    ChannelRule("referral", medium=r"referral|app|link"),
    ChannelRule("unassigned"),
)


def channel_rules(overrides: Iterable[Mapping[str, str]] = ()) -> tuple[ChannelRule, ...]:
    """Your rules (dicts with ``channel`` and optional ``source``, ``medium``) before the defaults.

    Examples
    --------
    >>> rules = channel_rules([{"channel": "search", "source": "google", "medium": "cpc"}])
    >>> map_channel("google", "cpc", rules), map_channel("bing", "cpc", rules)
    ('search', 'paid_search')
    """
    own = []
    for k, rule in enumerate(overrides, start=1):
        unknown = set(rule) - {"channel", "source", "medium"}
        if "channel" not in rule or unknown:
            raise InputError.single(
                f"channel rule {k} needs 'channel' and may have 'source' and 'medium'"
                + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else ""),
                row=k,
            )
        for key in ("source", "medium"):
            if rule.get(key) is not None:
                try:
                    re.compile(rule[key])
                except re.error as exc:
                    raise InputError.single(
                        f"channel rule {k}: {key} '{rule[key]}' is not a regular expression ({exc})",
                        row=k,
                        column=key,
                    ) from None
        own.append(ChannelRule(str(rule["channel"]), rule.get("source"), rule.get("medium")))
    return (*own, *DEFAULT_CHANNEL_RULES)


def map_channel(
    source: str, medium: str, rules: Sequence[ChannelRule] = DEFAULT_CHANNEL_RULES
) -> str:
    """The channel of a source and medium: the first rule that matches.

    Examples
    --------
    >>> map_channel("google", "cpc"), map_channel("(direct)", "(none)"), map_channel("ig", "paid")
    ('paid_search', 'direct', 'paid_social')
    """
    for rule in rules:
        if rule.matches(source, medium):
            return rule.channel
    return "unassigned"


# -- the BigQuery export ------------------------------------------------------------------


def _param(params: Any, key: str) -> Any:
    for item in params or ():
        if item.get("key") == key:
            value = item.get("value") or {}
            for kind in ("string_value", "int_value", "double_value", "float_value"):
                if value.get(kind) is not None:
                    return value[kind]
    return None


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
        return
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError.single(
                    f"not a JSON object: {exc.msg} (column {exc.colno})",
                    file=str(path),
                    row=line_no,
                ) from None
            if not isinstance(row, dict):
                raise InputError.single("not a JSON object", file=str(path), row=line_no)
            row["_line"] = line_no
            yield row


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value)


def _source_medium(row: Mapping[str, Any]) -> tuple[str, str] | None:
    collected = row.get("collected_traffic_source") or {}
    source = _text(collected.get("manual_source"))
    medium = _text(collected.get("manual_medium"))
    params = row.get("event_params")
    source = source or _text(_param(params, "source"))
    medium = medium or _text(_param(params, "medium"))
    if source is None and medium is None and _text(collected.get("gclid")):
        return "google", "cpc"
    if source is None and medium is None:
        return None
    return source or "(not set)", medium or "(not set)"


@dataclass
class _Session:
    start: int
    source_medium: tuple[str, str] | None = None
    conversions: int = 0
    value: float = 0.0


@dataclass
class _Reader:
    conversion_events: frozenset[str]
    sessions: dict[tuple[str, str], _Session] = field(default_factory=dict)
    first_touch: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, row: Mapping[str, Any], file: str, row_no: int) -> None:
        user = _text(row.get("user_pseudo_id"))
        stamp = row.get("event_timestamp")
        name = _text(row.get("event_name"))
        try:
            micros = int(stamp) if stamp is not None else None
        except (TypeError, ValueError):
            micros = None
        for column, ok in (
            ("user_pseudo_id", user),
            ("event_timestamp", micros),
            ("event_name", name),
        ):
            if ok is None:
                self.problems.append(
                    Problem(
                        f"found {stamp!r}" if column == "event_timestamp" else "found nothing",
                        file=file,
                        row=row_no,
                        column=column,
                    )
                )
        if user is None or micros is None or name is None:
            return
        params = row.get("event_params")
        session_id = _param(params, "ga_session_id")
        key = (user, f"s{session_id}" if session_id is not None else f"e{micros}")
        session = self.sessions.setdefault(key, _Session(micros))
        session.start = min(session.start, micros)
        found = _source_medium(row)
        if found is not None and session.source_medium is None:
            session.source_medium = found
        acquired = row.get("traffic_source") or {}
        if _text(acquired.get("source")) or _text(acquired.get("medium")):
            self.first_touch.setdefault(
                user,
                (
                    _text(acquired.get("source")) or "(not set)",
                    _text(acquired.get("medium")) or "(not set)",
                ),
            )
        if name in self.conversion_events:
            session.conversions += 1
            revenue = (row.get("ecommerce") or {}).get("purchase_revenue")
            if revenue is None:
                revenue = _param(params, "value")
            session.value += float(revenue or 0.0)


def read_ga4_export(
    paths: Sequence[str | Path],
    *,
    rules: Sequence[ChannelRule] = DEFAULT_CHANNEL_RULES,
    conversion_events: Iterable[str] = ("purchase",),
) -> pd.DataFrame:
    """Read GA4 BigQuery export files (NDJSON or Parquet) into an attribution event log.

    Parameters
    ----------
    paths : sequence of path
        ``events_YYYYMMDD`` exports, ``.json``/``.jsonl``/``.ndjson`` or ``.parquet``.
    rules : sequence of ChannelRule
        Source/medium to channel (:func:`channel_rules` adds your own to the defaults).
    conversion_events : iterable of str
        Event names that count as conversions.

    Returns
    -------
    DataFrame
        ``user_id, timestamp, channel, conversion, conversion_value``: one row per
        session, sorted by user and time (the rules are in the module docstring).

    Raises
    ------
    InputError
        A row without ``user_pseudo_id``, ``event_name`` or a numeric
        ``event_timestamp`` (file, line and column named); nothing is returned.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> rows = [
    ...   {"event_name": "session_start", "event_timestamp": "1767600000000000",
    ...    "user_pseudo_id": "u1", "event_params": [{"key": "ga_session_id",
    ...    "value": {"int_value": "1"}}], "collected_traffic_source": {
    ...    "manual_source": "google", "manual_medium": "cpc"}},
    ...   {"event_name": "purchase", "event_timestamp": "1767600060000000",
    ...    "user_pseudo_id": "u1", "event_params": [{"key": "ga_session_id",
    ...    "value": {"int_value": "1"}}], "ecommerce": {"purchase_revenue": 30.0}}]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events_20260105.json"
    >>> _ = path.write_text("\\n".join(json.dumps(r) for r in rows))
    >>> read_ga4_export([path]).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'user_id': 'u1', 'timestamp': '2026-01-05T08:00:00', 'channel': 'paid_search',
      'conversion': 1, 'conversion_value': 30.0}]
    """
    reader = _Reader(frozenset(conversion_events))
    for path in map(Path, paths):
        if not path.is_file():
            raise InputError.single("no such file", file=str(path))
        for index, row in enumerate(_rows(path), start=1):
            reader.add(row, str(path), int(row.pop("_line", index)))
    if reader.problems:
        raise InputError(reader.problems)
    first_session: dict[str, int] = {}
    for (user, _), session in reader.sessions.items():
        first_session[user] = min(first_session.get(user, session.start), session.start)
    records = []
    for (user, _), session in reader.sessions.items():
        found = session.source_medium
        if found is None and session.start == first_session[user]:
            found = reader.first_touch.get(user)
        source, medium = found or ("(direct)", "(none)")
        records.append(
            {
                "user_id": user,
                "micros": session.start,
                "channel": map_channel(source, medium, rules),
                "conversion": int(session.conversions > 0),
                "conversion_value": round(session.value, 6),
            }
        )
    frame = pd.DataFrame(
        records, columns=["user_id", "micros", "channel", "conversion", "conversion_value"]
    )
    frame = frame.sort_values(["user_id", "micros"], kind="stable").reset_index(drop=True)
    stamps = pd.to_datetime(frame["micros"], unit="us", utc=True).dt.tz_localize(None)
    frame.insert(1, "timestamp", stamps.dt.strftime("%Y-%m-%dT%H:%M:%S"))
    log.info("GA4 export: %d session(s) of %d user(s)", len(frame), frame["user_id"].nunique())
    return frame.drop(columns="micros")


# -- the Data API -------------------------------------------------------------------------

DIMENSIONS = ("date", "sessionDefaultChannelGroup")
METRICS = ("sessions", "keyEvents", "totalRevenue")
_PAGE = 100_000


def report_frame(responses: Iterable[Any]) -> pd.DataFrame:
    """Rows of ``RunReportResponse`` pages as ``date_day, channel_group, sessions, key_events, revenue``.

    Headers are read from each response, so the column order of the request does
    not matter.
    """
    names = {"sessions": "sessions", "keyEvents": "key_events", "totalRevenue": "revenue"}
    out = []
    for response in responses:
        dims = [h.name for h in response.dimension_headers]
        mets = [h.name for h in response.metric_headers]
        for row in response.rows:
            d = dict(zip(dims, (v.value for v in row.dimension_values), strict=True))
            m = dict(zip(mets, (v.value for v in row.metric_values), strict=True))
            out.append(
                {
                    "date_day": dt.datetime.strptime(d["date"], "%Y%m%d").date(),
                    "channel_group": d["sessionDefaultChannelGroup"],
                    **{names[k]: float(m[k]) for k in names if k in m},
                }
            )
    return pd.DataFrame(
        out, columns=["date_day", "channel_group", "sessions", "key_events", "revenue"]
    )


def _default_client() -> Any:
    try:
        from google.analytics.data_v1beta import BetaAnalyticsDataClient
    except ImportError:
        raise SourceUnavailableError(
            "GA4 Data API needs google-analytics-data: pip install 'mediamix[connectors]'"
        ) from None
    try:
        return BetaAnalyticsDataClient()
    except Exception as exc:  # google.auth's DefaultCredentialsError and friends
        raise SourceUnavailableError(f"GA4 Data API: no credentials ({exc})") from None


@dataclass(frozen=True)
class Ga4DataSource:
    """Daily GA4 aggregates by session default channel group, from the Data API.

    Parameters
    ----------
    property_id : str
        The GA4 property (digits); the batch's account.
    client_factory : callable
        Builds a ``BetaAnalyticsDataClient`` (default: Application Default
        Credentials); tests pass a stub answering ``run_report``.
    retry : Retry
        Backoff on quota errors (``ResourceExhausted``) and transient failures.
    """

    property_id: str | None
    client_factory: Callable[[], Any] = _default_client
    retry: Retry = field(default_factory=Retry)
    name: str = "ga4"

    def check(self) -> str | None:
        """Skip when no property is configured."""
        return None if self.property_id else "no GA4 property configured"

    def _page(self, client: Any, request: FetchRequest, offset: int) -> Any:
        from google.analytics.data_v1beta.types import (
            DateRange,
            Dimension,
            Metric,
            RunReportRequest,
        )
        from google.api_core import exceptions as gexc

        body = RunReportRequest(
            property=f"properties/{self.property_id}",
            dimensions=[Dimension(name=d) for d in DIMENSIONS],
            metrics=[Metric(name=m) for m in METRICS],
            date_ranges=[
                DateRange(start_date=request.start.isoformat(), end_date=request.end.isoformat())
            ],
            limit=_PAGE,
            offset=offset,
        )

        def call() -> Any:
            try:
                return client.run_report(request=body)
            except gexc.ResourceExhausted as exc:
                raise RateLimitedError(f"GA4 quota exhausted: {exc.message}") from None
            except (gexc.ServiceUnavailable, gexc.InternalServerError) as exc:
                raise TransientError(f"GA4 server error: {exc.message}") from None
            except (gexc.PermissionDenied, gexc.Unauthenticated, gexc.NotFound) as exc:
                raise SourceUnavailableError(
                    f"GA4 property {self.property_id}: {exc.message}"
                ) from None

        return self.retry.call(f"GA4 property {self.property_id}", call)

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """Every page of the report over the period, as KPI and organic driver rows."""
        client = self.client_factory()
        pages = [self._page(client, request, 0)]
        while sum(len(p.rows) for p in pages) < pages[0].row_count:
            pages.append(self._page(client, request, sum(len(p.rows) for p in pages)))
        frame = report_frame(pages)
        if frame.empty:
            raise SourceUnavailableError(
                f"GA4 property {self.property_id} has no sessions from {request.start} to {request.end}"
            )
        daily = frame.groupby("date_day", as_index=False)[["revenue", "key_events"]].sum()
        kpi = pd.concat(
            [
                pd.DataFrame(
                    {
                        "date_day": daily["date_day"],
                        "geo": "all",
                        "name": f"ga4_{m}",
                        "value": daily[m],
                    }
                )
                for m in ("revenue", "key_events")
            ],
            ignore_index=True,
        )
        controls = pd.DataFrame(
            {
                "date_day": frame["date_day"],
                "geo": "all",
                "name": "sessions:" + frame["channel_group"].astype(str),
                "kind": "organic",
                "value": frame["sessions"],
            }
        )
        return SourceBatch(
            source=self.name,
            account=str(self.property_id),
            media=pd.DataFrame(columns=list(MEDIA_COLUMNS)),
            period_start=request.start,
            period_end=request.end,
            kpi=kpi.loc[:, list(KPI_COLUMNS)],
            controls=controls.loc[:, list(CONTROL_COLUMNS)],
            origin=f"GA4 property {self.property_id}",
        )
