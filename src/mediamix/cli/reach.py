"""``mediamix reach-fit``: exposure-to-reach curves from reach and frequency data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["reach_fit_cmd"]


def reach_fit_cmd(
    data: Annotated[
        Path, typer.Argument(help="Reach and frequency CSV/Parquet, one row per geo and week.")
    ],
    channel: Annotated[list[str], typer.Option("--channel", help="Channel prefix (repeat).")],
    out: Annotated[Path, typer.Option(help="reach.json to write.")],
    form: Annotated[str, typer.Option(help="exponential|hill")] = "exponential",
    periods: Annotated[int | None, typer.Option(help="Plan weeks stored in the file.")] = None,
    impressions_suffix: Annotated[
        str, typer.Option(help="Impressions column suffix.")
    ] = "_impression",
    reach_suffix: Annotated[str, typer.Option(help="Reach column suffix.")] = "_reach",
    spend_suffix: Annotated[str, typer.Option(help="Spend column suffix.")] = "_spend",
    population_column: Annotated[str, typer.Option(help="Population column.")] = "population",
    date_column: Annotated[str, typer.Option(help="Week column.")] = "time",
    geo_column: Annotated[str, typer.Option(help="Geo column ('' for none).")] = "geo",
) -> None:
    """Fit reach curves per channel (reach.json for optimize --objective reach)."""
    from mediamix.errors import InputError
    from mediamix.service.reach import ReachColumns, fit_reach_file

    if form not in {"exponential", "hill"}:
        raise InputError.single(
            f"--form must be exponential or hill, not '{form}'", column="--form"
        )
    doc = fit_reach_file(
        data,
        channel,
        columns=ReachColumns(
            impressions=impressions_suffix,
            reach=reach_suffix,
            spend=spend_suffix,
            population=population_column,
            date=date_column,
            geo=geo_column or None,
        ),
        form=form,  # type: ignore[arg-type]
        periods=periods,
        out=out,
    )
    table = Table(title=f"reach curves ({form}), population {doc['population']:,.0f}")
    for column in ("channel", "r_max", "k / h", "R2", "cost per 1000 impressions"):
        table.add_column(column, justify="right")
    for name, c in doc["channels"].items():
        curve = c["curve"]
        table.add_row(
            name,
            f"{curve['r_max']:.3f}",
            f"{curve.get('k') or curve.get('h'):.3g}",
            f"{curve['r2']:.4f}" if curve["r2"] is not None else "-",
            f"{1000 * c['cost_per_impression']:.2f}",
        )
    console = Console(soft_wrap=True)
    console.print(table)
    console.print(f"wrote {out}", markup=False)
