"""Read attribution data in either layout, told apart by its header."""

from __future__ import annotations

from pathlib import Path

from mediamix.attribution.events import read_event_log
from mediamix.attribution.journeys import Journeys
from mediamix.attribution.layout import detect_input_kind, read_header
from mediamix.attribution.paths import read_paths
from mediamix.errors import InputError

__all__ = ["read_journeys"]


def read_journeys(
    file: Path | str, *, lookback_days: float = 30.0, memory_limit: str | None = "1GB"
) -> Journeys:
    """Read either layout, detected from the header (``path`` or ``user_id`` columns).

    Parquet files are event logs.
    """
    file = Path(file)
    if not file.exists():
        raise InputError.single("file not found", file=str(file))
    if file.suffix.lower() in (".parquet", ".pq"):
        return read_event_log(file, lookback_days=lookback_days, memory_limit=memory_limit)
    columns, _ = read_header(file)
    if detect_input_kind(columns, file=str(file)) == "paths":
        return read_paths(file)
    return read_event_log(file, lookback_days=lookback_days, memory_limit=memory_limit)
