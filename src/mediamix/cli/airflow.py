"""``mediamix airflow ...``: where the packaged Airflow DAGs are (docs/airflow.md)."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["airflow_app"]

airflow_app = typer.Typer(
    name="airflow",
    help="The Airflow 3 DAGs shipped with mediamix.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_out = Console(soft_wrap=True, highlight=False)


@airflow_app.command("dags-path")
def dags_path_cmd() -> None:
    """Print the folder holding the DAG files: point Airflow's dags_folder at it."""
    from mediamix.orchestration import dags_path

    _out.print(str(dags_path()), markup=False)
