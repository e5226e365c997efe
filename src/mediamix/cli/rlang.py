"""R commands: ``check r-glmnet``.

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

__all__ = ["check_app"]

_out = Console(soft_wrap=True, highlight=False)

check_app = typer.Typer(help="Cross-check a fitted model.", no_args_is_help=True)


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
