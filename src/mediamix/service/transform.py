"""Use case: build the warehouse models (dbt) and export the MMM input from them.

:func:`transform` runs ``dbt build`` (seeds, models and data tests) on the
warehouse. :func:`export_mmm_input` turns the ``mmm_weekly_input`` mart back into
a wide CSV and a spec that ``mediamix validate`` and ``mediamix fit`` read, so a
model can take its data from the warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mediamix.errors import InputError
from mediamix.io.artifacts import sha256_file
from mediamix.io.atomic import atomic_dir
from mediamix.warehouse.lineage import mart_lineage
from mediamix.warehouse.store import Warehouse
from mediamix.warehouse.transform import TransformResult, run_dbt

__all__ = ["EXPORT_LINEAGE", "ExportOutcome", "export_mmm_input", "transform"]

log = logging.getLogger(__name__)

EXPORT_LINEAGE = "lineage.json"
"""Written beside an exported mart: the loads and dbt models it came from."""
_DRIVER_KEYS = {"control": "controls", "organic": "organic", "event": "events"}


def transform(
    home: str | Path,
    *,
    params: pd.DataFrame | str | Path | None = None,
    kpi: str | None = None,
    freshness: bool = False,
) -> TransformResult:
    """Run ``dbt build`` on the warehouse (and ``dbt source freshness`` if asked).

    Parameters
    ----------
    home : path
        The mediamix home.
    params : DataFrame or CSV path, optional
        Adstock and saturation parameters per channel for ``int_media_transforms``
        (columns ``channel, alpha, l_max, half_saturation, slope``).
    kpi : str, optional
        KPI name the marts carry (default: the most frequent one loaded).
    freshness : bool
        Also check that the last load is recent (warns after 7 days).

    Raises
    ------
    InputError
        No warehouse yet, bad parameters, or a data test failed.
    BusyError
        Another process is writing the warehouse.
    """
    variables = {"mmm_kpi": kpi} if kpi else None
    result = run_dbt(home, command="build", params=params, variables=variables)
    if freshness:
        fresh = run_dbt(home, command="source freshness", params=params, raise_on_failure=False)
        result = TransformResult(
            command=result.command,
            success=result.success and fresh.success,
            nodes=result.nodes + fresh.nodes,
            seconds=result.seconds + fresh.seconds,
        )
    return result


@dataclass(frozen=True)
class ExportOutcome:
    """The CSV and spec written from the mart."""

    data: Path
    spec: Path
    periods: int
    geos: int
    channels: tuple[str, ...]


# Longer than a unit should be: one SQL query builds the wide mart layout column by
# column, and the spec written beside it must name exactly those columns; keeping both
# in one function keeps them in step.
def export_mmm_input(
    home: str | Path,
    out: str | Path,
    *,
    kpi_type: str = "revenue",
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> ExportOutcome:
    """Write ``out/mmm_weekly_input.csv`` and ``out/spec.yaml`` from the mart.

    The CSV is wide: ``date`` (week start), ``geo`` (only when there are several
    geos), the KPI, ``<channel>_spend`` per channel, ``<channel>_impressions`` when
    every week has impressions, and one column per control, organic and event
    driver. Rows are sorted by geo and week, numbers written in shortest round-trip form, so
    the same warehouse gives byte-identical files.

    Raises
    ------
    InputError
        The mart is missing or has no rows in the period.
    """
    with Warehouse.reader(home) as wh:
        tables = wh.tables()
        if "mmm_weekly_input" not in tables:
            raise InputError.single(
                "the warehouse has no mmm_weekly_input mart: run mediamix transform first",
                file=str(wh.path),
            )
        where, args = [], []
        if start is not None:
            where.append("week_start >= ?")
            args.append(pd.Timestamp(start).date())
        if end is not None:
            where.append("week_start <= ?")
            args.append(pd.Timestamp(end).date())
        clause = (" where " + " and ".join(where)) if where else ""
        mart = wh.query(f"select * from mmm_weekly_input{clause}", args)  # noqa: S608 -- constant clauses; values are bound parameters
        kinds = wh.query(
            "select factor_name, min(factor_kind) as kind from stg_external_factors "
            "group by factor_name order by factor_name"
        )
        lineage = mart_lineage(wh, "mmm_weekly_input")
    if mart.empty:
        raise InputError.single(
            f"mmm_weekly_input has no rows from {start or 'the start'} to {end or 'the end'}",
            file="warehouse",
        )
    fixed = {
        "week_start",
        "geo",
        "channel",
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "kpi_name",
        "kpi",
    }
    drivers = [c for c in mart.columns if c not in fixed]
    kpi_name = str(mart["kpi_name"].iloc[0]) or "kpi"
    mart = mart.sort_values(["geo", "week_start", "channel"]).reset_index(drop=True)
    channels = tuple(sorted(mart["channel"].unique()))
    keys = ["week_start", "geo"]
    base = mart.drop_duplicates(keys)[[*keys, "kpi", *drivers]].set_index(keys)
    spend = mart.pivot(index=keys, columns="channel", values="spend")
    impressions = mart.pivot(index=keys, columns="channel", values="impressions")
    wide = pd.DataFrame(index=base.index)
    wide[kpi_name] = base["kpi"]
    spec_channels: dict[str, Any] = {}
    for channel in channels:
        wide[f"{channel}_spend"] = spend[channel]
        entry: dict[str, str] = {"spend": f"{channel}_spend"}
        if impressions[channel].notna().all():
            wide[f"{channel}_impressions"] = impressions[channel]
            entry["exposure"] = f"{channel}_impressions"
        spec_channels[channel] = entry
    kind_of = dict(zip(kinds["factor_name"], kinds["kind"], strict=True))
    spec_drivers: dict[str, list[str]] = {"controls": [], "organic": [], "events": []}
    for name in drivers:
        wide[name] = base[name]
        spec_drivers[_DRIVER_KEYS.get(kind_of.get(name, "control"), "controls")].append(name)
    wide = wide.reset_index().rename(columns={"week_start": "date"})
    wide["date"] = pd.to_datetime(wide["date"]).dt.strftime("%Y-%m-%d")
    geos = sorted(wide["geo"].unique())
    spec: dict[str, Any] = {
        "data": "mmm_weekly_input.csv",
        "date": "date",
        "kpi": kpi_name,
        "kpi_type": kpi_type,
        "channels": spec_channels,
    }
    if len(geos) > 1:
        spec["geo"] = "geo"
    else:
        wide = wide.drop(columns=["geo"])
    spec.update({k: v for k, v in spec_drivers.items() if v})
    spec["frequency"] = "weekly"
    out = Path(out)
    with atomic_dir(out) as tmp:
        wide.to_csv(tmp / "mmm_weekly_input.csv", index=False)
        (tmp / "spec.yaml").write_text(
            "# exported from the warehouse mart mmm_weekly_input by mediamix\n"
            + yaml.safe_dump(spec, sort_keys=False)
        )
        # what the CSV was exported from, tied to it by its checksum: a fit of this
        # file carries it into the model's lineage
        lineage["export"] = {
            "file": "mmm_weekly_input.csv",
            "sha256": sha256_file(tmp / "mmm_weekly_input.csv"),
            "period": [str(start) if start else None, str(end) if end else None],
        }
        (tmp / EXPORT_LINEAGE).write_text(json.dumps(lineage, indent=2) + "\n")
    return ExportOutcome(
        data=out / "mmm_weekly_input.csv",
        spec=out / "spec.yaml",
        periods=int(wide["date"].nunique()),
        geos=len(geos),
        channels=channels,
    )
