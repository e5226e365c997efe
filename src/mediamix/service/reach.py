"""Use case: fit exposure-to-reach curves from reach and frequency data.

The input is one row per (geo, week) with, per channel, impressions, reach and
spend columns named ``<channel><suffix>`` (Meridian's layout by default:
``Channel3_impression``, ``Channel3_reach``, ``Channel3_spend``) and a population
column. Each channel gets a curve fitted on (impressions / population,
reach / population) pairs and a cost per impression = total spend / total
impressions; the market population is the sum of the geos' populations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.errors import InputError, Problem
from mediamix.io.atomic import atomic_write_json
from mediamix.io.table import ReadLimits, read_table
from mediamix.optimization.reach import ReachForm, fit_reach_curve, reach_to_dict

__all__ = ["ReachColumns", "fit_reach_file"]


@dataclass(frozen=True)
class ReachColumns:
    """How the reach and frequency file names its columns."""

    impressions: str = "_impression"
    reach: str = "_reach"
    spend: str = "_spend"
    population: str = "population"
    date: str = "time"
    geo: str | None = "geo"


def _numbers(frame: pd.DataFrame, column: str, source: str) -> tuple[np.ndarray, list[Problem]]:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    problems = []
    if bad.size:
        rows = [int(b) + 1 for b in bad]
        problems.append(
            Problem(
                f"found '{frame[column].iloc[bad[0]]}' in {len(rows)} row(s); expected a number",
                file=source,
                row=rows[0],
                column=column,
                rows=tuple(rows),
            )
        )
    return values, problems


# Slightly over the size limit: reading, checking and fitting each channel's columns
# stay together so that every error names the file and column it came from.
def fit_reach_file(
    data: str | Path,
    channels: list[str],
    *,
    columns: ReachColumns | None = None,
    form: ReachForm = "exponential",
    periods: int | None = None,
    out: str | Path | None = None,
    limits: ReadLimits | None = None,
) -> dict[str, Any]:
    """Fit a reach curve per channel and return (and optionally write) ``reach.json``.

    ``periods`` is the plan length stored in the file (default: the number of weeks
    in the data); ``current_spend`` per channel is the data's spend scaled to it.
    """
    columns = columns or ReachColumns()
    table = read_table(data, limits)
    frame, source = table.frame, table.source
    needed = [columns.population, columns.date]
    for c in channels:
        needed += [c + columns.impressions, c + columns.reach, c + columns.spend]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        present = ", ".join(f"'{c}'" for c in frame.columns)
        raise InputError(
            [
                Problem(
                    f"column '{c}' is not in the file; columns present: {present}",
                    file=source,
                    column=c,
                )
                for c in missing
            ]
        )
    problems: list[Problem] = []
    population, p = _numbers(frame, columns.population, source)
    problems += p
    series: dict[str, dict[str, np.ndarray]] = {}
    for c in channels:
        series[c] = {}
        for kind in ("impressions", "reach", "spend"):
            values, p = _numbers(frame, c + getattr(columns, kind), source)
            series[c][kind] = values
            problems += p
    if problems:
        raise InputError(problems)
    n_weeks = int(frame[columns.date].nunique())
    periods = periods or n_weeks
    if columns.geo and columns.geo in frame.columns:
        market = float(
            pd.Series(population, index=frame[columns.geo]).groupby(level=0).first().sum()
        )
    else:
        market = float(np.nanmax(population))
    curves, cpi, current = {}, {}, {}
    for c in channels:
        s = series[c]
        try:
            curves[c] = fit_reach_curve(s["impressions"], s["reach"], population, form=form)
        except InputError as err:
            raise InputError(
                [
                    Problem(f"channel {c}: {p.message}", file=source, column=c + columns.reach)
                    for p in err.problems
                ]
            ) from None
        impressions = float(s["impressions"].sum())
        if impressions <= 0:
            raise InputError.single(
                f"channel {c} has no impressions", file=source, column=c + columns.impressions
            )
        cpi[c] = float(s["spend"].sum()) / impressions
        current[c] = float(s["spend"].sum()) * periods / n_weeks
    doc = reach_to_dict(curves, cpi, market, periods, current)
    if out is not None:
        atomic_write_json(out, doc)
    return doc
