"""``mediamix optimize``: the command function (registered on the main app by the lead)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from mediamix.errors import InputError
from mediamix.optimization.response import ResponseModel
from mediamix.optimization.risk import DEFAULT_LEVEL
from mediamix.optimization.solver import Objective, Plan
from mediamix.service.optimize import optimize, optimize_request


def model_folder(model: Path | str) -> Path:
    """A local, verified folder for ``--model`` (folder, ``models:/`` or stored model)."""
    from mediamix.service.registry import resolve_model
    from mediamix.settings import load_settings

    settings = load_settings()
    return resolve_model(str(model), settings.tracking_config(), settings.storage_config())


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


def scenario_table(scenarios: Mapping[str, Any]) -> Table:
    """A rich table of scenarios side by side: spend, response, ROI, change, P(better)."""
    table = Table(title="scenarios")
    for col in ("scenario", "spend", "response", "roi", "vs current", "P(better)"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for name, s in scenarios.items():
        change = s.get("change_vs_current")
        prob = s.get("probability_better")
        table.add_row(
            name,
            _fmt(s["total_spend"]),
            _fmt(s["total_response"]),
            _fmt(s.get("roi"), 3),
            "-" if change is None else f"{change:+.1%}",
            "-" if prob is None else f"{prob:.0%}",
        )
    return table


def optimum_table(plan: Plan, optimum: Mapping[str, Any]) -> Table:
    """The plan beside the exact optimum without the band: spend per channel, response."""
    band = optimum["band"]
    table = Table(title=f"plan (within {band:.0%} of current) beside the optimum without the band")
    for col in ("channel", "current", "plan", "optimum"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    reference = optimum["reference"]
    for name, a in plan.channels.items():
        table.add_row(
            name, _fmt(reference[name]), _fmt(a.spend), _fmt(optimum["channels"][name]["spend"])
        )
    table.add_row(
        "response", "", _fmt(plan.total_response), _fmt(optimum["total_response"]), style="bold"
    )
    return table


def optimize_cmd(
    model: str | None = typer.Option(
        None,
        "--model",
        help="Fitted model folder, models:/NAME/VERSION, models:/NAME@ALIAS, or a stored "
        "model: s3://bucket/prefix/models/NAME[/VERSION] or store:NAME[/VERSION].",
    ),
    curves: Path | None = typer.Option(None, "--curves", help="CURVES.json response curves."),
    budget: float = typer.Option(..., "--budget", help="Budget (largest budget for targets)."),
    objective: Objective = typer.Option(Objective.REVENUE, "--objective"),
    target: float | None = typer.Option(None, "--target", help="Target ROI, mROI or response."),
    constraints: Path | None = typer.Option(None, "--constraints", help="Constraints YAML."),
    out: Path | None = typer.Option(None, "--out", help="Write plan.json here."),
    periods: int | None = typer.Option(None, "--periods", help="Plan length (with --model)."),
    risk_level: float = typer.Option(
        DEFAULT_LEVEL,
        "--risk-level",
        help="Recommend a plan only if it beats the current mix with this probability "
        "across the model's draws (models with draws); otherwise a safer plan.",
    ),
    no_risk: bool = typer.Option(False, "--no-risk", help="Skip the risk check."),
    scenarios: Path | None = typer.Option(
        None,
        "--scenarios",
        help="What-if allocations (YAML): compared side by side with the current and "
        "optimized plans; also adds the efficient frontier.",
    ),
    frontier: bool = typer.Option(
        False, "--frontier", help="Add the efficient frontier (50%-200% of current spend)."
    ),
    reach: Path | None = typer.Option(
        None,
        "--reach",
        help="reach.json (from mediamix reach-fit): with --objective reach, maximize "
        "weekly people reached.",
    ),
    band: float | None = typer.Option(
        None,
        "--band",
        min=0.0,
        help="Keep every channel without bounds of its own within this fraction of its "
        "current spend scaled to the budget (default 0.3 for revenue and reach plans; "
        "overrides 'band:' in the constraints). The exact optimum without the band is "
        "shown beside the plan.",
    ),
    no_band: bool = typer.Option(
        False, "--no-band", help="No band around the current mix: plan the exact optimum."
    ),
    weekly: bool = typer.Option(
        False,
        "--weekly",
        "--plan-by-week",
        help="Plan week by week over --periods weeks after the model's window, with "
        "carry-over from its history (geometric adstock only; with --model).",
    ),
) -> None:
    """Allocate a budget across channels to meet an objective."""
    # a folder, or a verified copy of a models:/ reference or of a stored model
    folder = model_folder(model) if model is not None else None
    if weekly:
        _weekly(folder, curves, budget, objective, constraints, out, periods)
        return
    response_model = _response_model(folder, curves, reach, objective, periods)
    request = optimize_request(
        budget,
        constraints=_with_band_option(constraints, band, no_band),
        constraints_file=None if constraints is None else str(constraints),
        scenarios=scenarios,
        objective=objective,
        target=target,
        risk_level=None if no_risk else risk_level,
        frontier=frontier,
    )
    plan = optimize(request, curves=curves, response_model=response_model, out=out)
    _print_plan(plan, out)


def _with_band_option(
    constraints: Path | None, band: float | None, no_band: bool
) -> Path | Mapping[str, Any] | None:
    """The constraints file, or its document with the band the options set."""
    if band is not None and no_band:
        raise InputError.single("give --band or --no-band, not both", column="--band")
    if band is None and not no_band:
        return constraints
    from mediamix.optimization.constraints import read_constraints

    doc = (
        {} if constraints is None else read_constraints(constraints).model_dump(exclude_unset=True)
    )
    return {**doc, "band": None if no_band else band}


def _response_model(
    model: Path | None,
    curves: Path | None,
    reach: Path | None,
    objective: Objective,
    periods: int | None,
) -> ResponseModel | None:
    """The response model the flags name (``--model`` or ``--reach``), if any."""
    if reach is not None:
        if model is not None or curves is not None or objective != Objective.REACH:
            raise InputError.single(
                "--reach goes with --objective reach, without --model or --curves",
                column="--reach",
            )
        from mediamix.service.optimize import reach_response

        return reach_response(reach, periods)
    if objective == Objective.REACH and curves is None:
        # CURVES.json may describe reach directly; a fitted KPI model does not
        raise InputError.single(
            "--objective reach takes --reach reach.json or --curves CURVES.json "
            "whose response is reach",
            column="--objective",
        )
    if model is not None:
        from mediamix.service.optimize import model_response

        return model_response(model, periods)
    if periods is not None:
        raise InputError.single("--periods applies to --model or --reach only", column="--periods")
    return None


def _print_plan(plan: Plan, out: Path | None) -> None:
    console = Console()
    console.print(plan_table(plan))
    if plan.response_interval is not None:
        lo, hi = plan.response_interval
        console.print(f"90% interval of the response: {lo:,.2f} to {hi:,.2f}")
    if plan.risk is not None:
        console.print(f"recommendation: {plan.risk.recommendation}")
    for note in plan.notes:
        console.print(note, markup=False)
    if plan.optimum_without_band is not None:
        console.print(optimum_table(plan, plan.optimum_without_band))
    if plan.scenarios is not None:
        console.print(scenario_table(plan.scenarios))
    if plan.frontier is not None:
        console.print(f"efficient frontier: {len(plan.frontier['points'])} budgets in plan.json")
    if out is not None:
        console.print(f"wrote {out}")


def _weekly(
    model: Path | None,
    curves: Path | None,
    budget: float,
    objective: Objective,
    constraints: Path | None,
    out: Path | None,
    periods: int | None,
) -> None:
    from mediamix.service.optimize import optimize_weekly

    if model is None or curves is not None:
        raise InputError.single("--weekly needs --model (and no --curves)", column="--weekly")
    request = optimize_request(
        budget, constraints=constraints, objective=objective, periods=periods
    )
    plan = optimize_weekly(model, request, out=out)
    names = list(plan.channels)
    table = Table(title=f"weekly plan, budget {plan.budget:,.2f}, {plan.periods} weeks")
    for col in ("week", "date", *names, "response"):
        table.add_column(col, justify="left" if col == "date" else "right")
    for row in plan.weeks:
        table.add_row(
            str(row["week"]),
            row["date"],
            *(_fmt(row[c]) for c in names),
            _fmt(row["response"]),
        )
    console = Console()
    console.print(table)
    console.print(
        f"response in the plan weeks {plan.total_response:,.2f} (carried over from history "
        f"{plan.carryover_in:,.2f}); after the horizon {plan.carryover_out:,.2f}; "
        f"historical pattern at this budget {plan.current['total_response']:,.2f}",
        markup=False,
    )
    if plan.status == "iteration_limit":
        console.print(
            "the solver stopped at its iteration limit before it converged: the plan is the "
            "best point it found",
            markup=False,
        )
    for note in plan.notes:
        console.print(note, markup=False)
    if out is not None:
        console.print(f"wrote {out}")
