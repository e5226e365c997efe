"""``mediamix transform``: build the warehouse models with dbt (registered by the lead)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mediamix.cli.progress import working
from mediamix.settings import load_settings

__all__ = ["transform_cmd"]

_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)


def transform_cmd(
    params: Annotated[
        Path | None,
        typer.Option(
            help="CSV of adstock/saturation parameters per channel "
            "(channel, alpha, l_max, half_saturation, slope)."
        ),
    ] = None,
    kpi: Annotated[
        str | None, typer.Option(help="KPI the marts carry (default: the most frequent).")
    ] = None,
    freshness: Annotated[
        bool, typer.Option(help="Also check that the last load is recent (dbt source freshness).")
    ] = False,
    export: Annotated[
        Path | None,
        typer.Option(help="Also write mmm_weekly_input.csv and spec.yaml from the mart here."),
    ] = None,
    kpi_type: Annotated[str, typer.Option(help="revenue|conversions (for --export).")] = "revenue",
) -> None:
    """Run dbt build (staging, intermediate, marts and their data tests) on the warehouse."""
    from mediamix.errors import InputError
    from mediamix.service.transform import export_mmm_input, transform

    if kpi_type not in {"revenue", "conversions"}:
        raise InputError.single(
            f"--kpi-type must be revenue or conversions, not '{kpi_type}'", column="--kpi-type"
        )
    home = load_settings().home
    with working("dbt build (staging, intermediate, marts, data tests)"):
        result = transform(home, params=params, kpi=kpi, freshness=freshness)
    for node in result.warned:
        _err.print(f"warning: {node.kind} {node.name}: {node.message}", markup=False)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
    _out.print(f"dbt build: {counts} in {result.seconds:.1f} s", markup=False)
    if export is not None:
        exported = export_mmm_input(home, export, kpi_type=kpi_type)
        _out.print(
            f"wrote {exported.data} and {exported.spec} ({exported.periods} weeks, "
            f"{exported.geos} geo(s), {len(exported.channels)} channels)",
            markup=False,
        )
