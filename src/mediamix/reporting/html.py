"""Self-contained HTML reports: charts are inline SVG, so the file opens offline.

The charts are the figures of :mod:`mediamix.reporting.plots` (one home per
chart: a notebook and the report draw the same picture), rendered to SVG with a
fixed id salt and no date, so the same inputs give the same bytes.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from mediamix.reporting import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["model_report_html", "report_figures"]


def _svg(fig: Figure) -> str:
    import matplotlib

    buffer = io.StringIO()
    # a fixed id salt and no creation date: the same model gives the same report bytes
    with matplotlib.rc_context({"svg.hashsalt": "mediamix"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def report_figures(
    summary: Mapping[str, Any],
    decomposition: pd.DataFrame,
    plan: Mapping[str, Any] | None = None,
    curves: Any = None,
) -> dict[str, Figure]:
    """The report's figures by name, drawn by :mod:`mediamix.reporting.plots`.

    ``decomposition`` and ``roi`` always; ``curves`` (response curves, with current
    and recommended spend marked) when ``curves`` is given; ``budget`` with a plan,
    and ``frontier`` when the plan carries one.
    """
    figures: dict[str, Figure] = {
        "decomposition": plots.plot_decomposition(summary, decomposition),
        "roi": plots.plot_roi(summary),
    }
    if curves is not None:
        figures["curves"] = plots.plot_response_curves(curves, current=summary, plan=plan)
    if plan is not None:
        figures["budget"] = plots.plot_budget_shift(plan, current=summary)
        points = (plan.get("frontier") or {}).get("points") or []
        if len(points) >= 2:
            figures["frontier"] = plots.plot_frontier(plan)
    return figures


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def _pct(value: Any, signed: bool = True) -> str | None:
    if value is None:
        return None
    return f"{value:+.1%}" if signed else f"{value:.0%}"


def _plan_extras(plan: Mapping[str, Any], figures: Mapping[str, str]) -> list[str]:
    """Risk notes, scenario table and frontier chart, for plans that carry them."""
    parts: list[str] = []
    notes = plan.get("notes") or []
    if notes:
        parts.append(
            "<h3>What the plan recommends</h3><ul>"
            + "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
            + "</ul>"
        )
    scenarios = plan.get("scenarios") or {}
    if scenarios:
        rows = [
            [
                name,
                sc.get("total_spend"),
                sc.get("total_response"),
                sc.get("roi"),
                _pct(sc.get("change_vs_current")),
                _pct(sc.get("probability_better"), signed=False),
            ]
            for name, sc in scenarios.items()
        ]
        parts += [
            "<h2>Scenarios</h2>",
            _table(
                ["scenario", "spend", "expected response", "ROI", "vs current", "P(better)"],
                rows,
            ),
        ]
        channels = list(next(iter(scenarios.values()))["channels"])
        parts.append(
            _table(
                ["channel", *scenarios],
                [[c, *(sc["channels"][c]["spend"] for sc in scenarios.values())] for c in channels],
            )
        )
    if "frontier" in figures:
        parts += ["<h2>Efficient frontier</h2>", figures["frontier"]]
    return parts


def model_report_html(
    summary: Mapping[str, Any],
    decomposition: pd.DataFrame,
    plan: Mapping[str, Any] | None = None,
    title: str = "mediamix report",
    curves: Any = None,
) -> str:
    """An executive report as one self-contained HTML document.

    ``summary`` and ``plan`` are the ``summary.json`` and ``plan.json`` documents,
    ``decomposition`` the ``decomposition.csv`` table; ``curves`` (optional) the
    model's response curves (see :func:`mediamix.reporting.plots.plot_response_curves`).
    The same inputs give the same bytes.
    """
    figures = {
        name: _svg(fig)
        for name, fig in report_figures(summary, decomposition, plan, curves).items()
    }
    channels = summary["channels"]
    rows = []
    for name, c in channels.items():
        interval = c.get("roi_interval")
        rows.append(
            [
                name,
                c["spend"],
                c["contribution"],
                c.get("contribution_share"),
                c.get("roi"),
                c.get("mroi"),
                c.get("cpa"),
                f"{interval[0]:.2f} - {interval[1]:.2f}" if interval else None,
            ]
        )
    metrics = summary.get("metrics", {})
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>KPI <b>{html.escape(str(summary.get('kpi')))}</b> ({summary.get('kpi_type')}), "
        f"{summary.get('start')} to {summary.get('end')}, {summary.get('n_periods')} periods, "
        f"engine <b>{summary.get('engine')}</b>. Fit: R&sup2; {_fmt(metrics.get('r2'))}, "
        f"NRMSE {_fmt(metrics.get('nrmse'))}, MAPE {_fmt(metrics.get('mape'))}.</p>",
        "<h2>Contributions over time</h2>",
        figures["decomposition"],
        "<h2>Return on investment</h2>",
        figures["roi"],
        _table(
            [
                "channel",
                "spend",
                "contribution",
                "share of KPI",
                "ROI",
                "marginal ROI",
                "CPA",
                "ROI 90% interval",
            ],
            rows,
        ),
    ]
    if "curves" in figures:
        parts += ["<h2>Response curves</h2>", figures["curves"]]
    if plan is not None:
        plan_rows = [
            [
                name,
                summary["channels"].get(name, {}).get("spend"),
                p["spend"],
                p.get("response"),
                p.get("marginal_roi"),
            ]
            for name, p in plan["channels"].items()
        ]
        parts += [
            "<h2>Recommended budget</h2>",
            f"<p>Objective <b>{html.escape(str(plan.get('objective')))}</b>, budget "
            f"{_fmt(plan.get('budget'))}, status {html.escape(str(plan.get('status')))}: "
            f"expected response {_fmt(plan.get('total_response'))}.</p>",
            figures["budget"],
            _table(
                [
                    "channel",
                    "current spend",
                    "recommended spend",
                    "expected response",
                    "marginal ROI",
                ],
                plan_rows,
            ),
        ]
    if plan is not None:
        parts += _plan_extras(plan, figures)
    warnings = summary.get("warnings") or []
    if warnings:
        parts.append(
            "<h2>Warnings</h2><ul>"
            + "".join(f"<li>{html.escape(str(w))}</li>" for w in warnings)
            + "</ul>"
        )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}"
        "svg{max-width:100%;height:auto}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
