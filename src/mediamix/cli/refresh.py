"""``mediamix refresh``: the command function (registered on the main app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mediamix.cli.progress import err_console, progress_bar

out_console = Console(soft_wrap=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3g}"


def _cause(reasons: list[str]) -> str:
    """A short label of the largest cause (the full sentences are in refresh.json)."""
    first = reasons[0] if reasons else ""
    if first.startswith("new data"):
        return "new data"
    if first.startswith("new spend"):
        return "spend levels"
    return "none"


def refresh_table(report: dict[str, Any]) -> Table:
    """Per channel: movement of the earlier weeks, ROI before and after, and why.

    The ROI change is split into the part from re-estimating on the new data and the
    part from the new weeks' spend levels; ``refresh.json`` has the full reasons.
    """
    table = Table(
        title=f"refresh: {report['new_periods']} new periods from {report['first_new_period']}, "
        f"tolerance {report['tolerance']:.1%}"
    )
    columns = ("channel", "earlier weeks moved", "roi before", "roi after", "new data", "spend")
    for column in (*columns, "main cause"):
        table.add_column(column, justify="left" if column in ("channel", "main cause") else "right")
    for name, c in report["channels"].items():
        moved = _pct(c["movement"])
        if not c["within_tolerance"]:
            moved += " (over)"
        table.add_row(
            name,
            moved,
            _num(c["roi_previous"]),
            _num(c["roi"]),
            _signed(c["roi_change_from_new_data"]),
            _signed(c["roi_change_from_spend_levels"]),
            _cause(c["reasons"]),
        )
    return table


def refresh_cmd(
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help="Model to refresh: fit folder, models:/NAME/VERSION or models:/NAME@ALIAS.",
        ),
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="CSV/Parquet with the spec's columns: the new weeks, optionally after any "
            "part of the model's window (which must match the stored data).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder (summary.json, decomposition.csv, model/, refresh.json); "
            "default refresh-<last new week>.",
        ),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            help="Largest movement of a channel's earlier-week contributions, as a share "
            "of its total over them; beyond it the refresh warns.",
        ),
    ] = 0.05,
    no_track: Annotated[
        bool, typer.Option("--no-track", help="Do not track this refresh in MLflow.")
    ] = False,
) -> None:
    """Refit a ridge model with new weeks, keeping earlier weeks' decomposition stable."""
    from mediamix.io.table import ReadLimits
    from mediamix.service.refresh import REFRESH_FILE, refresh
    from mediamix.settings import load_settings

    settings = load_settings()
    limits = ReadLimits(
        max_rows=settings.max_rows, max_columns=settings.max_columns, max_bytes=settings.max_bytes
    )
    with progress_bar("refresh (ridge)") as update:
        outcome = refresh(
            model,
            data,
            out,
            tolerance=tolerance,
            limits=limits,
            registry=settings.tracking_config(),
            tracking=settings.tracking_config(enabled=False if no_track else None),
            progress=update,
        )
    report = outcome.report
    out_console.print(refresh_table(report))
    if not report["within_tolerance"]:
        err_console.print(
            "warning: earlier weeks moved by more than the tolerance for "
            + ", ".join(report["channels_beyond_tolerance"]),
            markup=False,
        )
    folder = outcome.out
    out_console.print(
        f"wrote {folder / 'summary.json'}, {folder / 'decomposition.csv'}, "
        f"{folder / 'model'}, {folder / REFRESH_FILE}",
        markup=False,
    )
    tracked = outcome.summary.get("tracking")
    if tracked:
        parent = report.get("parent_run_id")
        out_console.print(
            f"tracked as MLflow run {tracked['run_id']} at {tracked['tracking_uri']}"
            + (f" (parent run {parent})" if parent else ""),
            markup=False,
        )
