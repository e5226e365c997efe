"""``mediamix optimize``: the command function (registered on the main app by the lead)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from mediamix.errors import InputError
from mediamix.optimization.solver import Objective, Plan
from mediamix.service.optimize import optimize


def _fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def plan_table(plan: Plan) -> Table:
    """A rich table of a plan: spend, response, ROI and marginal ROI per channel."""
    table = Table(title=f"{plan.objective} plan, budget {plan.budget:,.2f} ({plan.status})")
    for col in ("channel", "spend", "share", "response", "roi", "marginal roi"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    total = plan.total_spend or 1.0
    for name, a in plan.channels.items():
        table.add_row(
            name,
            _fmt(a.spend),
            f"{a.spend / total:.1%}",
            _fmt(a.response),
            _fmt(a.roi, 3),
            _fmt(a.marginal_roi, 3),
        )
    table.add_row(
        "total",
        _fmt(plan.total_spend),
        "100.0%",
        _fmt(plan.total_response),
        _fmt(plan.roi, 3),
        "",
        style="bold",
    )
    return table


def optimize_cmd(
    model: Path | None = typer.Option(None, "--model", help="Fitted model folder."),
    curves: Path | None = typer.Option(None, "--curves", help="CURVES.json response curves."),
    budget: float = typer.Option(..., "--budget", help="Budget (largest budget for targets)."),
    objective: Objective = typer.Option(Objective.REVENUE, "--objective"),
    target: float | None = typer.Option(None, "--target", help="Target ROI, mROI or response."),
    constraints: Path | None = typer.Option(None, "--constraints", help="Constraints YAML."),
    out: Path | None = typer.Option(None, "--out", help="Write plan.json here."),
    periods: int | None = typer.Option(None, "--periods", help="Plan length (with --model)."),
) -> None:
    """Allocate a budget across channels to meet an objective."""
    response_model = None
    if model is not None:
        from mediamix.service.optimize import model_response

        response_model = model_response(model, periods)
    elif periods is not None:
        raise InputError.single("--periods applies to --model only", column="--periods")
    plan = optimize(
        curves=curves,
        response_model=response_model,
        budget=budget,
        objective=objective,
        target=target,
        constraints=constraints,
        out=out,
    )
    console = Console()
    console.print(plan_table(plan))
    if plan.response_interval is not None:
        lo, hi = plan.response_interval
        console.print(f"90% interval of the response: {lo:,.2f} to {hi:,.2f}")
    if out is not None:
        console.print(f"wrote {out}")
