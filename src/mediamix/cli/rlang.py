"""R commands: ``check r-glmnet``, ``import robyn``, ``export robyn``, ``r-script``.

Registered on the main app in :mod:`mediamix.cli.app`. R is looked for only when a
command needs it; without it the command exits 2 saying what to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mediamix.cli.progress import working

__all__ = ["check_app", "export_app", "import_app", "r_script_cmd"]

_out = Console(soft_wrap=True, highlight=False)

check_app = typer.Typer(help="Cross-check a fitted model.", no_args_is_help=True)
import_app = typer.Typer(help="Import a model made by another tool.", no_args_is_help=True)
export_app = typer.Typer(help="Export a model for another tool.", no_args_is_help=True)


@check_app.command("r-glmnet")
def check_r_glmnet_cmd(
    model: Annotated[Path, typer.Argument(help="Fit output folder of a ridge model.")],
    tolerance: Annotated[
        float, typer.Option(help="Largest relative difference called a match.")
    ] = 1e-5,
    out: Annotated[Path | None, typer.Option(help="Write the full report as JSON.")] = None,
) -> None:
    """Refit a ridge model's design with R's glmnet; compare coefficients and contributions."""
    from mediamix.service.rlang import check_r_glmnet

    with working("glmnet in R"):
        report = check_r_glmnet(model, tolerance=tolerance, out=out)
    table = Table(
        title=f"{report['engine']} model vs glmnet (alpha 0, lambda {report['lambda']:.4g}, glmnet's scale "
        f"{report['lambda_glmnet']:.4g})"
    )
    for column in ("channel", "model contribution", "glmnet contribution", "difference"):
        table.add_column(column, justify="right")
    for name, row in report["contributions"].items():
        table.add_row(
            name, f"{row['model']:,.2f}", f"{row['glmnet']:,.2f}", f"{row['rel_diff']:.2e}"
        )
    _out.print(table)
    verdict = "match" if report["within_tolerance"] else "DIFFER"
    _out.print(
        f"{verdict}: largest coefficient difference {report['max_rel_diff_coef']:.2e}, "
        f"contribution difference {report['max_rel_diff_contribution']:.2e} "
        f"(tolerance {tolerance:.0e}), glmnet standardize={report['standardize']}; "
        f"standardize={not report['standardize']} would move the coefficients by up to "
        f"{report['max_rel_diff_coef_other_convention']:.2e}",
        markup=False,
    )
    if out is not None:
        _out.print(f"wrote {out}", markup=False)


@import_app.command("robyn")
def import_robyn_cmd(
    model_json: Annotated[Path, typer.Argument(help="Robyn JSON export (robyn_write).")],
    data: Annotated[Path, typer.Option(help="The model's input table (Robyn's dt_input).")],
    out: Annotated[
        Path, typer.Option(help="Output folder: summary.json, decomposition.csv, model/.")
    ],
) -> None:
    """Read a Robyn model into a mediamix model that reproduces its decomposition."""
    from mediamix.service.rlang import import_robyn

    result, _ = import_robyn(model_json, data, out)
    robyn = result.engine_info.robyn
    title = f"Robyn model {robyn.select_model} ({robyn.version})" if robyn else "Robyn model"
    decomp_agg = robyn.decomp_agg if robyn else {}
    table = Table(title=title)
    for column in ("variable", "Robyn decompAgg", "mediamix contribution", "difference"):
        table.add_column(column, justify="right")
    contributions = dict(zip(result.channel_names, result.contributions(), strict=True))
    for name, value in contributions.items():
        theirs = decomp_agg.get(name)
        diff = f"{value / theirs - 1:.2e}" if theirs else "-"
        table.add_row(name, f"{theirs:,.2f}" if theirs else "-", f"{value:,.2f}", diff)
    _out.print(table)
    _out.print(
        f"wrote {out / 'summary.json'}, {out / 'decomposition.csv'}, {out / 'model'}",
        markup=False,
    )


@export_app.command("robyn")
def export_robyn_cmd(
    model: Annotated[Path, typer.Argument(help="Fit output folder (or its model/ folder).")],
    out: Annotated[Path, typer.Option(help="Folder for RobynModel-<id>.json and dt_input.csv.")],
) -> None:
    """Write a model as a Robyn JSON export with the input table it refers to."""
    from mediamix.service.rlang import export_robyn

    written = export_robyn(model, out)
    _out.print(f"wrote {written.json} and {written.data}", markup=False)
    _out.print(
        "robyn_recreate() refits glmnet with Robyn's standardize=TRUE; "
        "`mediamix check r-glmnet` shows how far that convention moves a ridge model",
        markup=False,
    )


def r_script_cmd(
    script: Annotated[Path, typer.Argument(help="R script (layout: docs/r-scripts.md).")],
    spec: Annotated[Path, typer.Argument(help="Model spec (YAML) naming the data.")],
    out: Annotated[
        Path, typer.Option(help="Output folder: summary.json, decomposition.csv, model/.")
    ],
    timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds before the script is stopped.")
    ] = 600.0,
) -> None:
    """Run an R script as a model (Rscript in a subprocess) and store its result."""
    from mediamix.service.rlang import run_r_script_model
    from mediamix.settings import load_settings

    settings = load_settings()
    with working(f"R script {script.name}"):
        result, summary = run_r_script_model(script, spec, out, timeout=timeout, home=settings.home)
    table = Table(title=f"R script model {script.name} ({summary['start']} to {summary['end']})")
    for column in ("channel", "spend", "contribution", "roi", "mroi"):
        table.add_column(column, justify="right")
    for name, c in summary["channels"].items():
        table.add_row(
            name,
            f"{c['spend']:,.0f}",
            f"{c['contribution']:,.0f}",
            "-" if c["roi"] is None else f"{c['roi']:.3f}",
            "-" if c["mroi"] is None else f"{c['mroi']:.3f}",
        )
    _out.print(table)
    run = result.engine_info.r_script
    ran = f"ran in {run.seconds:.1f} s; " if run is not None and run.seconds is not None else ""
    _out.print(
        f"{ran}wrote {out / 'summary.json'}, {out / 'decomposition.csv'}, {out / 'model'}",
        markup=False,
    )
