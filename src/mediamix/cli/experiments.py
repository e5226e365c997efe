"""``mediamix experiments suggest``: which lift test would make the plan safer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["experiments_app"]

experiments_app = typer.Typer(help="Plan experiments (lift tests).", no_args_is_help=True)


@experiments_app.command("suggest")
def suggest_cmd(
    model: Annotated[
        str, typer.Argument(help="Fitted model folder, models:/ reference or stored model.")
    ],
    budget: Annotated[
        float | None, typer.Option(help="Budget of the plan (default: current spend).")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Channels to propose a design for.")] = 3,
    out: Annotated[Path | None, typer.Option(help="Write experiments.json here.")] = None,
) -> None:
    """Rank channels by how much a lift test would narrow the plan's gain, with designs."""
    from mediamix.cli.optimize import model_folder
    from mediamix.service.experiments import suggest_experiments

    doc = suggest_experiments(model_folder(model), budget, top=top, out=out)
    console = Console()
    lo, hi = doc["plan"]["gain_interval"]
    console.print(
        f"optimized plan's gain over the current mix: 90% interval {lo:,.0f} to {hi:,.0f} "
        f"({doc['plan']['n_draws']} draws; recommendation: {doc['plan']['recommendation']})",
        markup=False,
    )
    table = Table(title="lift tests, most useful first")
    for col in ("channel", "interval cut", "weeks", "holdout", "expected lift", "MDE (80%)"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    for s in doc["suggestions"]:
        d = s.get("design")
        table.add_row(
            s["channel"],
            f"{s['interval_share']:.0%}",
            "-" if d is None else str(d["weeks"]),
            "-" if d is None else f"{d['holdout_share']:.0%}",
            "-" if d is None else f"{d['expected_lift']:,.0f}",
            "-"
            if d is None
            else f"{d['minimum_detectable_lift']:,.0f}"
            + ("" if d["powered"] else " (underpowered)"),
        )
    console.print(table)
    if out is not None:
        console.print(f"wrote {out}")
