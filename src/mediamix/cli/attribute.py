"""``mediamix attribute``: multi-touch attribution from paths, an event log, or the
warehouse's event log (``--from-warehouse``).

The lead registers :func:`attribute_cmd` on the main app as ``attribute``; the main
app maps :class:`~mediamix.errors.InputError` to exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from mediamix.cli.progress import working
from mediamix.errors import InputError
from mediamix.service.attribute import METHOD_NAMES, WarehouseEvents, attribute


def _table(df: pd.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for col in df.columns:
        table.add_column(str(col), justify="left" if col == "channel" else "right")
    for row in df.itertuples(index=False):
        table.add_row(
            *(v if isinstance(v, str) else ("" if pd.isna(v) else f"{v:,.2f}") for v in row)
        )
    return table


def attribute_cmd(
    paths: Annotated[
        Path | None,
        typer.Argument(
            help="Aggregated paths (path;total_conversions[;total_conversion_value][;total_null]) "
            "or an event log (user_id,timestamp,channel,conversion[,conversion_value]"
            "[,milestone]); CSV or Parquet. Leave out with --from-warehouse."
        ),
    ] = None,
    from_warehouse: Annotated[
        bool,
        typer.Option(
            "--from-warehouse",
            help="Read the event log loaded into the warehouse (mediamix ingest events) "
            "instead of a file.",
        ),
    ] = False,
    method: Annotated[
        str, typer.Option("--method", "-m", help=f"One of: {', '.join(METHOD_NAMES)}.")
    ] = "all",
    order: Annotated[
        int, typer.Option("--order", help="Markov order (states are the last K channels).")
    ] = 1,
    half_life: Annotated[
        float | None,
        typer.Option(
            "--half-life",
            help="Time-decay half-life: days for event logs (default 7), "
            "touches for aggregated paths (default 1).",
        ),
    ] = None,
    lookback_days: Annotated[
        int,
        typer.Option(
            "--lookback-days", help="Event logs: drop touches older than this before a conversion."
        ),
    ] = 30,
    out: Annotated[Path | None, typer.Option("--out", help="Output CSV.")] = None,
    keep_repeats: Annotated[
        bool,
        typer.Option(
            "--keep-repeats",
            help="Markov: keep consecutive repeated channels (default: "
            "merge them, as ChannelAttribution does).",
        ),
    ] = False,
    decomposition: Annotated[
        Path | None,
        typer.Option("--decomposition", help="MMM decomposition.csv for MMM-based attribution."),
    ] = None,
    window_start: Annotated[
        str | None, typer.Option("--window-start", help="MMM window start (ISO date, inclusive).")
    ] = None,
    window_end: Annotated[
        str | None, typer.Option("--window-end", help="MMM window end (ISO date, inclusive).")
    ] = None,
    shapley_permutations: Annotated[
        int,
        typer.Option("--shapley-permutations", help="Monte Carlo permutations beyond 15 channels."),
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Shapley sampler.")] = 0,
) -> None:
    """Attribute conversions to channels (rule-based, Markov, Shapley, MMM-based)."""
    source: Path | WarehouseEvents
    if from_warehouse:
        if paths is not None:
            raise InputError.single(
                "give either a file or --from-warehouse, not both", column="--from-warehouse"
            )
        from mediamix.settings import load_settings

        source = WarehouseEvents(load_settings().home)
    elif paths is None:
        raise InputError.single("give a paths or event-log file, or --from-warehouse")
    else:
        source = paths
    with working("attributing"):
        df = attribute(
            source,
            method,
            decomposition=decomposition,
            out=out,
            order=order,
            half_life=half_life,
            lookback_days=lookback_days,
            keep_repeats=keep_repeats,
            window_start=window_start,
            window_end=window_end,
            shapley_permutations=shapley_permutations,
            seed=seed,
        )
    # Piped output (files, CI logs) gets a wide console so side-by-side tables stay legible.
    console = Console(width=None if sys.stdout.isatty() else 240)
    shown = df
    if method == "all":  # conversions only; the CSV has the values too
        cols = [c for c in df.columns if c.endswith("_conversions")]
        shown = df[["channel", *cols]].rename(columns=lambda c: c.removesuffix("_conversions"))
    console.print(_table(shown, f"Attribution: {method} (conversions)"))
    if out is not None:
        console.print(f"Wrote {out}")
