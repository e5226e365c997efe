"""``mediamix fit-many``: one ridge model per group of a table (Spark or a local pool)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mediamix.cli.progress import working
from mediamix.io.table import ReadLimits
from mediamix.settings import load_settings

__all__ = ["fit_many_cmd"]

_out = Console(soft_wrap=True, highlight=False)


def fit_many_cmd(
    spec: Annotated[
        Path, typer.Argument(help="Model spec (YAML); its data file also has the group columns.")
    ],
    out: Annotated[
        Path, typer.Option(help="Output folder: summaries.csv and one fit folder per group.")
    ],
    group_by: Annotated[
        list[str],
        typer.Option(
            "--group-by", help="Column naming a group; repeat it (brand, market, kpi, ...)."
        ),
    ],
    backend: Annotated[
        str, typer.Option(help="auto (Spark when pyspark is installed) | spark | local")
    ] = "auto",
    workers: Annotated[int, typer.Option(help="Processes of the local pool.", min=1)] = 2,
    master: Annotated[
        str, typer.Option(help="Spark master when the Spark backend starts a session.")
    ] = "local[2]",
    candidates: Annotated[
        int, typer.Option(help="Candidates of each group's ridge search.", min=10)
    ] = 500,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap draws per group.", min=0)] = 20,
    seed: Annotated[int, typer.Option(help="Random seed of every group's search.")] = 0,
) -> None:
    """Fit one ridge model per group; write summaries.csv and the fit folders, or nothing."""
    from mediamix.errors import InputError
    from mediamix.service.many import ManyBackend, ManyOptions, fit_many

    choices = [b.value for b in ManyBackend]
    if backend not in choices:
        raise InputError.single(
            f"--backend must be one of {', '.join(choices)}, not '{backend}'", column="--backend"
        )
    s = load_settings()
    limits = ReadLimits(max_rows=s.max_rows, max_columns=s.max_columns, max_bytes=s.max_bytes)
    options = ManyOptions(
        group_by=tuple(group_by),
        backend=ManyBackend(backend),
        workers=workers,
        seed=seed,
        candidates=candidates,
        bootstrap=bootstrap,
        spark_master=master,
    )
    with working("fitting one model per group"):
        outcome = fit_many(spec, out, options, limits=limits)
    _out.print(
        f"fitted {len(outcome.summaries)} groups on {outcome.backend.value} in "
        f"{outcome.seconds:.1f} s; wrote {out / 'summaries.csv'} and one folder per group",
        markup=False,
    )
