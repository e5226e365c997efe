"""Self-contained HTML reports: charts are inline SVG, so the file opens offline.

Charts are drawn with matplotlib (the ``report`` extra), imported only here.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["model_report_html", "report_figures"]

_PALETTE = [
    "#4C72B0",
    "#DD8452",
    "#55A868",
    "#C44E52",
    "#8172B3",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
    "#CCB974",
    "#64B5CD",
]


def _svg(fig: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    # a fixed id salt and no creation date: the same model gives the same report bytes
    with matplotlib.rc_context({"svg.hashsalt": "mediamix"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def report_figures(
    summary: Mapping[str, Any], decomposition: pd.DataFrame, plan: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The report's matplotlib figures by name (decomposition, roi, budget)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures: dict[str, Any] = {}
    channels = list(summary["channels"])
    dates = pd.to_datetime(decomposition["date"])
    skip = {"date", "actual", "fitted"}
    baseline_cols = [c for c in decomposition.columns if c not in skip and c not in channels]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    base = decomposition[baseline_cols].sum(axis=1).to_numpy()
    layers = [base] + [decomposition[c].to_numpy() for c in channels]
    labels = ["baseline", *channels]
    colors = ["#BBBBBB"] + [_PALETTE[i % len(_PALETTE)] for i in range(len(channels))]
    ax.stackplot(dates, *layers, labels=labels, colors=colors, alpha=0.85)
    ax.plot(dates, decomposition["actual"], color="black", lw=1.0, label="actual")
    ax.set_title("What drove the KPI: baseline and channel contributions per period")
    ax.legend(loc="upper left", ncol=min(len(labels) + 1, 6), fontsize=8)
    ax.set_ylabel(summary.get("kpi", "KPI"))
    figures["decomposition"] = fig

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    metric = "roi" if summary.get("kpi_type") == "revenue" else "cpa"
    values = [summary["channels"][c].get(metric) or 0.0 for c in channels]
    ax.bar(channels, values, color=[_PALETTE[i % len(_PALETTE)] for i in range(len(channels))])
    if metric == "roi":
        lows, highs = [], []
        for c, v in zip(channels, values, strict=True):
            interval = summary["channels"][c].get("roi_interval")
            lows.append(v - interval[0] if interval else 0.0)
            highs.append(interval[1] - v if interval else 0.0)
        ax.errorbar(
            channels,
            values,
            yerr=[np.maximum(lows, 0), np.maximum(highs, 0)],
            fmt="none",
            ecolor="black",
            capsize=4,
            lw=1,
        )
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_title("ROI by channel (90% interval)" if metric == "roi" else "Cost per acquisition")
    figures["roi"] = fig

    if plan is not None:
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        plan_channels = list(plan["channels"])
        current = [summary["channels"].get(c, {}).get("spend", 0.0) for c in plan_channels]
        recommended = [plan["channels"][c]["spend"] for c in plan_channels]
        x = np.arange(len(plan_channels))
        ax.bar(x - 0.2, current, 0.4, label="current", color="#BBBBBB")
        ax.bar(x + 0.2, recommended, 0.4, label="recommended", color="#4C72B0")
        ax.set_xticks(x, plan_channels)
        ax.set_title("Budget split: current vs recommended")
        ax.legend()
        figures["budget"] = fig
        points = (plan.get("frontier") or {}).get("points") or []
        if len(points) >= 2:
            figures["frontier"] = _frontier_figure(plan, points)
    return figures


def _frontier_figure(plan: Mapping[str, Any], points: Sequence[Mapping[str, Any]]) -> Any:
    """Best response per total budget, with the plan's scenarios marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    budgets = [float(p["budget"]) for p in points]
    responses = [float(p["response"]) for p in points]
    ax.plot(budgets, responses, color="#4C72B0", lw=1.8, marker="o", ms=3, label="frontier")
    markers = ["s", "D", "^", "v", "P", "X", "*"]
    for i, (name, sc) in enumerate((plan.get("scenarios") or {}).items()):
        ax.scatter(
            [sc["total_spend"]],
            [sc["total_response"]],
            marker=markers[i % len(markers)],
            s=45,
            zorder=3,
            color=_PALETTE[(i + 1) % len(_PALETTE)],
            label=name,
        )
    ax.set_xlabel("total budget")
    ax.set_ylabel("expected response")
    ax.set_title("Efficient frontier: best response for each budget (50%-200% of current)")
    ax.legend(fontsize=8)
    return fig


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
) -> str:
    """An executive report as one self-contained HTML document."""
    figures = {
        name: _svg(fig) for name, fig in report_figures(summary, decomposition, plan).items()
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
