"""Use cases: GA4 exports into the event log, and GA4 Data API aggregates into the warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from mediamix.errors import InputError
from mediamix.ingest.ga4 import DEFAULT_CHANNEL_RULES, ChannelRule, Ga4DataSource, channel_rules
from mediamix.ingest.ga4 import read_ga4_export as read_export
from mediamix.ingest.sources import SyntheticSource
from mediamix.io.atomic import atomic_write_text
from mediamix.service.ingest import SourceOutcome, ingest_sources
from mediamix.service.privacy import EventLoad, ingest_event_frame

__all__ = ["Ga4ExportOutcome", "ga4_export_events", "ingest_ga4", "read_channel_rules"]


@dataclass(frozen=True)
class Ga4ExportOutcome:
    """What an export read produced: the event-log file written, or the warehouse load."""

    sessions: int
    conversions: int
    out: Path | None
    load: EventLoad | None


def read_channel_rules(path: str | Path | None) -> tuple[ChannelRule, ...]:
    """Channel rules from a YAML file (a list of ``{channel, source, medium}``) before the defaults.

    Raises
    ------
    InputError
        The file is missing, not YAML, or a rule is malformed (file and rule named).
    """
    if path is None:
        return DEFAULT_CHANNEL_RULES
    where = str(path)
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError.single(
            f"cannot read the channel rules: {exc.strerror}", file=where
        ) from None
    except yaml.YAMLError as exc:
        raise InputError.single(f"not YAML: {exc}", file=where) from None
    rules = document.get("rules") if isinstance(document, dict) else document
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise InputError.single(
            "expected a list of rules, each {channel, source, medium}", file=where
        )
    try:
        return channel_rules(rules)
    except InputError as exc:
        raise InputError([replace(p, file=where) for p in exc.problems]) from None


def ga4_export_events(
    files: Sequence[str | Path],
    *,
    rules_file: str | Path | None = None,
    conversion_events: Sequence[str] = ("purchase",),
) -> pd.DataFrame:
    """The event log of GA4 BigQuery export files (see :func:`mediamix.ingest.ga4.read_ga4_export`)."""
    if not files:
        raise InputError.single("give at least one GA4 export file", column="FILES")
    return read_export(
        files, rules=read_channel_rules(rules_file), conversion_events=conversion_events
    )


def ingest_ga4_export(
    home: str | Path,
    files: Sequence[str | Path],
    *,
    rules_file: str | Path | None = None,
    conversion_events: Sequence[str] = ("purchase",),
    out: str | Path | None = None,
    pseudonymize_key: str | None = None,
) -> Ga4ExportOutcome:
    """Read GA4 exports; write the event log to ``out`` (CSV), or land it like ``ingest events``.

    Raises
    ------
    InputError
        A bad export row or rule file; nothing is written.
    """
    frame = ga4_export_events(files, rules_file=rules_file, conversion_events=conversion_events)
    conversions = int(frame["conversion"].sum())
    if out is not None:
        atomic_write_text(out, frame.to_csv(index=False))
        return Ga4ExportOutcome(len(frame), conversions, Path(out), None)
    load = ingest_event_frame(
        home, frame, ", ".join(map(str, files)), pseudonymize_key=pseudonymize_key
    )
    return Ga4ExportOutcome(len(frame), conversions, None, load)


def ingest_ga4(
    home: str | Path,
    property_id: str,
    start: dt.date,
    end: dt.date,
    *,
    fallback_synthetic: bool = False,
) -> SourceOutcome:
    """Load a GA4 property's daily KPI and sessions by channel group from the Data API.

    With ``fallback_synthetic``, synthetic data is loaded when the API cannot serve
    (the reason is reported), as the other connectors do.
    """
    if not property_id.isdigit():
        raise InputError.single(
            f"GA4 property '{property_id}' is not a property id (digits)", column="--property"
        )
    sources: list[Ga4DataSource | SyntheticSource] = [Ga4DataSource(property_id)]
    if fallback_synthetic:
        sources.append(SyntheticSource())
    return ingest_sources(home, sources, start, end, account=property_id)
