"""Matplotlib figures for the charts a report draws, one function per chart.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot:
nothing is shown, no global figure list grows, and the functions work under the
non-interactive Agg backend (servers, CI, report rendering). In a notebook, a
figure left as the last expression of a cell is drawn inline.

Inputs are the objects the library returns or their documents, so the same
function draws a chart from a fitted model in a notebook and from the
``summary.json`` / ``plan.json`` files of a finished run:

- *fit*: a fit result (anything with ``summary()``) or the ``summary.json``
  document (a mapping);
- *decomposition*: the per-period table (``date, actual, fitted``, baseline
  components, one column per channel), taken from the fit result when omitted;
- *plan*: an optimization plan (anything with ``to_dict()``) or the ``plan.json``
  document;
- *curves*: a tidy table with one row per channel and spend level (columns
  ``channel``, ``spend``, ``response``; optional ``response_lower`` and
  ``response_upper`` for an interval band), or the mapping ``{channel: {"spend":
  [...], "response": [...], ...}}``.

Colours come from the Okabe-Ito palette, which stays distinguishable under the
common colour-vision deficiencies; beyond its seven colours, bars and areas add a
hatch pattern so that no two channels look alike.

Matplotlib is the ``report`` extra and is imported only inside these functions,
so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "BASELINE_COLOUR",
    "PALETTE",
    "channel_style",
    "plot_budget_shift",
    "plot_contributions",
    "plot_decomposition",
    "plot_fit_diagnostics",
    "plot_frontier",
    "plot_mmm_vs_mta",
    "plot_response_curves",
    "plot_roi",
    "plot_roi_bases",
    "plot_waterfall",
]

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
)
"""Okabe-Ito colours (black left out: it draws the actual KPI), in the order used."""

BASELINE_COLOUR = "#BBBBBB"
"""Grey for the baseline and for the current allocation."""

_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo")


def channel_style(index: int) -> dict[str, str]:
    """Colour and hatch for the ``index``-th channel (0-based).

    The first seven channels get a plain Okabe-Ito colour each; further channels
    reuse the colours with a hatch pattern, so every channel stays distinct.

    Examples
    --------
    >>> channel_style(0)
    {'color': '#0072B2', 'hatch': ''}
    >>> channel_style(7)
    {'color': '#0072B2', 'hatch': '//'}
    """
    n = len(PALETTE)
    return {"color": PALETTE[index % n], "hatch": _HATCHES[(index // n) % len(_HATCHES)]}


# ---- inputs ---------------------------------------------------------------------


def _document(obj: Any, method: str, what: str) -> Mapping[str, Any]:
    """``obj`` when it is a document (a mapping), else what its ``method()`` returns."""
    if isinstance(obj, Mapping):
        return obj
    make = getattr(obj, method, None)
    if callable(make):
        doc = make()
        if isinstance(doc, Mapping):
            return doc
    raise TypeError(f"expected {what}, got {type(obj).__name__}")


def _summary(fit: Any) -> Mapping[str, Any]:
    """The summary document of a fit result, or ``fit`` itself when it is one."""
    return _document(fit, "summary", "a fit result or its summary.json document")


def _decomposition(fit: Any, decomposition: pd.DataFrame | None) -> pd.DataFrame:
    """The decomposition table given, or the fit result's own."""
    if decomposition is not None:
        return decomposition
    for name in ("decompose", "decomposition"):
        method = getattr(fit, name, None)
        if callable(method):
            frame = method()
            if isinstance(frame, pd.DataFrame):
                return frame
    raise TypeError(
        "a summary document carries no per-period numbers: pass the decomposition table "
        "(decomposition.csv) as well, or a fit result"
    )


def _plan(plan: Any) -> Mapping[str, Any]:
    """The plan document of a plan object, or ``plan`` itself when it is one."""
    return _document(plan, "to_dict", "a plan or its plan.json document")


def _current_spend(current: Any, plan: Mapping[str, Any]) -> dict[str, float]:
    """Current spend per channel, from what was given or from the plan's scenarios."""
    if current is None:
        scenario = (plan.get("scenarios") or {}).get("current")
        if scenario is None:
            raise ValueError(
                "the plan has no current scenario: pass current= (a fit result, its "
                "summary document or a {channel: spend} mapping)"
            )
        return {c: float(v["spend"]) for c, v in scenario["channels"].items()}
    if not isinstance(current, Mapping) or "channels" in current:
        channels = _summary(current)["channels"]
        return {c: float(v["spend"]) for c, v in channels.items()}
    return {str(c): float(v) for c, v in current.items()}


def _curves_frame(curves: Any) -> pd.DataFrame:
    """Response curves as a tidy table: ``channel``, ``spend``, ``response``, ..."""
    method = getattr(curves, "response_curves", None)
    if callable(method):
        curves = method()
    if isinstance(curves, pd.DataFrame):
        frame = curves
    elif isinstance(curves, Mapping):
        frame = pd.concat(
            [pd.DataFrame(dict(rows)).assign(channel=name) for name, rows in curves.items()],
            ignore_index=True,
        )
    else:
        raise TypeError(
            "expected response curves (a tidy DataFrame or {channel: {spend, response}}) "
            f"or a fit result, got {type(curves).__name__}"
        )
    missing = {"channel", "spend", "response"} - set(frame.columns)
    if missing:
        raise ValueError(f"response curves lack the column(s) {', '.join(sorted(missing))}")
    return frame


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, **kw: Any) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, **kw)
    return fig, axes


def _thousands(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(value: float, _pos: int) -> str:
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(fmt))


def _compact(ax: Axes, axis: str = "y") -> None:
    """Tick labels as 300k, 1.2M: long numbers would run into each other on small panels."""
    from matplotlib.ticker import FuncFormatter

    def fmt(value: float, _pos: int) -> str:
        size = abs(value)
        if size >= 1e6:
            return f"{value / 1e6:.3g}M"
        if size >= 1e3:
            return f"{value / 1e3:.3g}k"
        return f"{value:g}"

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(fmt))


# ---- charts -----------------------------------------------------------------------


def plot_decomposition(fit: Any, decomposition: pd.DataFrame | None = None) -> Figure:
    """Contributions over time, stacked, and the actual KPI against the fitted one.

    The top panel stacks the baseline (every non-media component summed: intercept,
    trend, seasonality, controls, events) and each channel's contribution per
    period, with the actual KPI as a black line; the bottom panel shows actual and
    fitted KPI, so a reader sees where the model misses.

    Parameters
    ----------
    fit : fit result or mapping
        A fit result, or its ``summary.json`` document (then ``decomposition`` is
        required). Gives the channel names and the KPI name.
    decomposition : DataFrame, optional
        ``date, actual, fitted``, baseline components, one column per channel (the
        ``decomposition.csv`` layout). Defaults to the fit result's own.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the stacked contributions (one area per baseline and channel, in
        that order) and actual vs fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "actual": [10.0, 12.0],
    ...                       "fitted": [10.5, 11.5], "intercept": [8.0, 8.0],
    ...                       "tv": [2.5, 3.5]})
    >>> fig = plot_decomposition({"kpi": "sales", "channels": {"tv": {}}}, table)
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['baseline', 'tv', 'actual']
    """
    summary = _summary(fit)
    table = _decomposition(fit, decomposition)
    channels = list(summary["channels"])
    dates = pd.to_datetime(table["date"])
    baseline_cols = [c for c in table.columns if c not in {"date", "actual", "fitted", *channels}]
    base = table[baseline_cols].sum(axis=1).to_numpy(float)
    fig, axes = _figure(10, 5.6, 2, 1, sharex=True, height_ratios=[3, 1.6])
    top, bottom = axes[0, 0], axes[1, 0]
    layers = [base] + [table[c].to_numpy(float) for c in channels]
    styles = [{"color": BASELINE_COLOUR, "hatch": ""}] + [
        channel_style(i) for i in range(len(channels))
    ]
    areas = top.stackplot(
        dates,
        *layers,
        labels=["baseline", *channels],
        colors=[s["color"] for s in styles],
        alpha=0.9,
    )
    for area, style in zip(areas, styles, strict=True):
        area.set_hatch(style["hatch"])
    kpi = str(summary.get("kpi") or "KPI")
    top.plot(dates, table["actual"], color="black", lw=1.0, label="actual")
    top.set_title("What drove the KPI: baseline and channel contributions per period")
    top.set_ylabel(kpi)
    top.legend(loc="upper left", ncol=min(len(channels) + 2, 6), fontsize=8)
    _thousands(top)
    bottom.plot(dates, table["actual"], color="black", lw=1.0, label="actual")
    bottom.plot(dates, table["fitted"], color=PALETTE[0], lw=1.2, ls="--", label="fitted")
    bottom.set_title("Actual vs fitted", fontsize=10)
    bottom.set_ylabel(kpi)
    bottom.legend(loc="upper left", ncol=2, fontsize=8)
    _thousands(bottom)
    return fig


def plot_contributions(fit: Any) -> Figure:
    """Total contribution of each channel over the window, largest first.

    Each bar is the channel's ``contribution`` (KPI units: fitted KPI minus fitted KPI
    without the channel, as in ``summary.json``), labelled with its
    ``contribution_share`` of the fitted KPI.

    Parameters
    ----------
    fit : fit result or mapping
        A fit result or its ``summary.json`` document.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with a horizontal bar per channel.

    Examples
    --------
    >>> summary = {"kpi": "sales", "channels": {
    ...     "tv": {"contribution": 300.0, "contribution_share": 0.3},
    ...     "search": {"contribution": 500.0, "contribution_share": 0.5}}}
    >>> fig = plot_contributions(summary)
    >>> [float(bar.get_width()) for bar in fig.axes[0].patches]
    [500.0, 300.0]
    """
    summary = _summary(fit)
    channels = summary["channels"]
    order = sorted(channels, key=lambda c: -(channels[c].get("contribution") or 0.0))
    index = {name: i for i, name in enumerate(channels)}
    fig, axes = _figure(6.5, 0.5 * len(order) + 1.4)
    ax = axes[0, 0]
    values = [float(channels[c].get("contribution") or 0.0) for c in order]
    y = np.arange(len(order))
    bars = ax.barh(y, values, **_bar_styles([index[c] for c in order]))
    ax.set_yticks(y, order)
    ax.invert_yaxis()
    labels = []
    for c in order:
        share = channels[c].get("contribution_share")
        labels.append(f"{share:.1%}" if share is not None else "")
    ax.bar_label(bars, labels, padding=3, fontsize=8)
    ax.margins(x=0.12)  # room for the share labels past the longest bar
    ax.axvline(0.0, color="black", lw=0.6)
    ax.set_xlabel(f"contribution ({summary.get('kpi') or 'KPI'})")
    ax.set_title("Contribution by channel (share of fitted KPI)")
    _thousands(ax, "x")
    return fig


def _bar_styles(indices: Sequence[int]) -> dict[str, Any]:
    styles = [channel_style(i) for i in indices]
    return {
        "color": [s["color"] for s in styles],
        "hatch": [s["hatch"] or None for s in styles],
        "edgecolor": "white",
    }


def plot_roi(fit: Any) -> Figure:
    """ROI by channel with its 90% interval, or cost per acquisition.

    For a revenue KPI each bar is the channel's ``roi`` (contribution / spend) with
    the ``roi_interval`` as an error bar where the engine gives one, and a dashed
    line at 1 (break-even). For a conversions KPI the bars show ``cpa`` (spend /
    contribution). A channel without a value (no spend) has no bar.

    Parameters
    ----------
    fit : fit result or mapping
        A fit result or its ``summary.json`` document.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar per channel, in the summary's order.

    Examples
    --------
    >>> summary = {"kpi_type": "revenue", "channels": {
    ...     "tv": {"roi": 2.0, "roi_interval": [1.5, 2.5]},
    ...     "search": {"roi": 0.8, "roi_interval": None}}}
    >>> fig = plot_roi(summary)
    >>> [float(bar.get_height()) for bar in fig.axes[0].patches]
    [2.0, 0.8]
    """
    summary = _summary(fit)
    channels = summary["channels"]
    names = list(channels)
    metric = "roi" if summary.get("kpi_type", "revenue") == "revenue" else "cpa"
    values = np.array(
        [np.nan if channels[c].get(metric) is None else float(channels[c][metric]) for c in names]
    )
    fig, axes = _figure(6.5, 3.8)
    ax = axes[0, 0]
    x = np.arange(len(names))
    ax.bar(x, values, **_bar_styles(range(len(names))))
    ax.set_xticks(x, names)
    if metric == "roi":
        lows, highs = np.zeros(len(names)), np.zeros(len(names))
        for i, c in enumerate(names):
            interval = channels[c].get("roi_interval")
            if interval and np.isfinite(values[i]):
                lows[i] = max(values[i] - float(interval[0]), 0.0)
                highs[i] = max(float(interval[1]) - values[i], 0.0)
        if highs.any() or lows.any():
            ax.errorbar(x, values, yerr=[lows, highs], fmt="none", ecolor="black", capsize=4, lw=1)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="break-even")
        ax.set_ylabel("KPI per unit of spend")
        ax.set_title("ROI by channel (90% interval where available)")
    else:
        ax.set_ylabel("spend per conversion")
        ax.set_title("Cost per acquisition by channel")
    return fig


def plot_response_curves(
    curves: Any,
    *,
    current: Any = None,
    plan: Any = None,
    cols: int = 3,
) -> Figure:
    """Response of each channel to its total spend, one panel per channel.

    Each panel draws the channel's expected response (KPI units) against its
    total spend over the window, the interval band where the curves carry
    ``response_lower`` and ``response_upper``, the current spend as a black dot
    on the curve and, with a plan, the recommended spend as a white diamond.
    Flattening curves show saturation: where the curve is flat, more spend buys
    little.

    Parameters
    ----------
    curves : DataFrame, mapping or fit result
        A tidy table with columns ``channel``, ``spend``, ``response`` (optional
        ``response_lower``, ``response_upper``), the mapping ``{channel: {"spend":
        [...], "response": [...]}}``, or a fit result (its own curves).
    current : fit result, mapping or None
        Current spend per channel: a fit result, its summary document, or a
        ``{channel: spend}`` mapping. Defaults to the fit result when ``curves``
        is one.
    plan : plan or mapping, optional
        A plan or its ``plan.json`` document; marks each channel's recommended spend.
    cols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per channel (unused grid cells are hidden).

    Examples
    --------
    >>> import pandas as pd
    >>> curves = pd.DataFrame({"channel": ["tv"] * 3, "spend": [0.0, 50.0, 100.0],
    ...                        "response": [0.0, 80.0, 120.0]})
    >>> fig = plot_response_curves(curves, current={"tv": 50.0})
    >>> fig.axes[0].get_title()
    'tv'
    >>> fig.axes[0].lines[0].get_ydata().tolist()
    [0.0, 80.0, 120.0]
    """
    from matplotlib.ticker import MaxNLocator

    if current is None and not isinstance(curves, pd.DataFrame | Mapping):
        current = curves
    frame = _curves_frame(curves)
    names = list(dict.fromkeys(frame["channel"]))
    spend_now = _current_spend(current, {}) if current is not None else {}
    recommended = {c: float(v["spend"]) for c, v in _plan(plan)["channels"].items()} if plan else {}
    ncols = max(1, min(cols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = _figure(3.4 * ncols, 2.8 * nrows, nrows, ncols)
    band = {"response_lower", "response_upper"} <= set(frame.columns)
    for i, name in enumerate(names):
        ax = axes[i // ncols, i % ncols]
        rows = frame[frame["channel"] == name].sort_values("spend")
        spend = rows["spend"].to_numpy(float)
        response = rows["response"].to_numpy(float)
        colour = channel_style(i)["color"]
        ax.plot(spend, response, color=colour, lw=1.8, label="expected response")
        if band:
            ax.fill_between(
                spend,
                rows["response_lower"].to_numpy(float),
                rows["response_upper"].to_numpy(float),
                color=colour,
                alpha=0.25,
                lw=0,
                label="90% interval",
            )
        if name in spend_now:
            x = spend_now[name]
            ax.plot([x], [np.interp(x, spend, response)], "o", color="black", label="current")
        if name in recommended:
            x = recommended[name]
            ax.plot(
                [x],
                [np.interp(x, spend, response)],
                "D",
                mfc="white",
                mec="black",
                label="recommended",
            )
        ax.set_title(name)
        ax.set_xlabel("total spend")
        ax.set_ylabel("response")
        _thousands(ax)
        _compact(ax, "x")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        if i == 0:
            ax.legend(fontsize=7, loc="lower right")
    for j in range(len(names), nrows * ncols):
        axes[j // ncols, j % ncols].set_visible(False)
    fig.suptitle("Response curves: expected response to each channel's total spend")
    return fig


def plot_budget_shift(plan: Any, current: Any = None) -> Figure:
    """Current against recommended spend per channel, with the change in percent.

    Parameters
    ----------
    plan : plan or mapping
        A plan or its ``plan.json`` document.
    current : fit result, mapping or None
        Current spend per channel: a fit result, its summary document, or a
        ``{channel: spend}`` mapping. Defaults to the plan's ``current`` scenario
        (plans made with scenarios or the frontier carry one).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: per channel a grey bar (current) and a coloured bar
        (recommended), in the plan's channel order.

    Examples
    --------
    >>> plan = {"channels": {"tv": {"spend": 60.0}, "search": {"spend": 40.0}}}
    >>> fig = plot_budget_shift(plan, current={"tv": 50.0, "search": 50.0})
    >>> [float(bar.get_height()) for bar in fig.axes[0].patches]
    [50.0, 50.0, 60.0, 40.0]
    """
    doc = _plan(plan)
    names = list(doc["channels"])
    now = _current_spend(current, doc)
    before = np.array([now.get(c, 0.0) for c in names])
    after = np.array([float(doc["channels"][c]["spend"]) for c in names])
    fig, axes = _figure(6.5, 3.8)
    ax = axes[0, 0]
    x = np.arange(len(names))
    ax.bar(x - 0.2, before, 0.4, label="current", color=BASELINE_COLOUR)
    bars = ax.bar(x + 0.2, after, 0.4, label="recommended", color=PALETTE[0])
    change = [f"{a / b - 1:+.0%}" if b > 0 else "new" for a, b in zip(after, before, strict=True)]
    ax.bar_label(bars, change, padding=2, fontsize=8)
    ax.set_xticks(x, names)
    ax.set_ylabel("spend")
    ax.set_title("Budget split: current vs recommended")
    ax.legend(fontsize=8)
    _thousands(ax)
    return fig


def plot_frontier(plan: Any) -> Figure:
    """Best expected response for each total budget, with the plan's scenarios marked.

    Parameters
    ----------
    plan : plan or mapping
        A plan (or ``plan.json`` document) made with scenarios or the frontier,
        so it carries ``frontier.points`` (``budget``, ``response``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the frontier line and one marker per scenario.

    Raises
    ------
    ValueError
        The plan carries fewer than two frontier points.

    Examples
    --------
    >>> plan = {"frontier": {"points": [{"budget": 50.0, "response": 80.0},
    ...                                 {"budget": 100.0, "response": 120.0}]},
    ...         "scenarios": {"current": {"total_spend": 100.0, "total_response": 110.0}}}
    >>> fig = plot_frontier(plan)
    >>> fig.axes[0].lines[0].get_xdata().tolist()
    [50.0, 100.0]
    """
    doc = _plan(plan)
    points = (doc.get("frontier") or {}).get("points") or []
    if len(points) < 2:
        raise ValueError("the plan has no efficient frontier: optimize with frontier=True")
    fig, axes = _figure(6.5, 3.8)
    ax = axes[0, 0]
    budgets = [float(p["budget"]) for p in points]
    responses = [float(p["response"]) for p in points]
    ax.plot(budgets, responses, color=PALETTE[0], lw=1.8, marker="o", ms=3, label="frontier")
    markers = ["s", "D", "^", "v", "P", "X", "*"]
    for i, (name, sc) in enumerate((doc.get("scenarios") or {}).items()):
        ax.scatter(
            [sc["total_spend"]],
            [sc["total_response"]],
            marker=markers[i % len(markers)],
            s=45,
            zorder=3,
            color=PALETTE[(i + 1) % len(PALETTE)],
            edgecolors="black",
            linewidths=0.5,
            # a scenario name is the user's text: "$" would start matplotlib's mathtext
            label=str(name).replace("$", r"\$"),
        )
    ax.set_xlabel("total budget")
    ax.set_ylabel("expected response")
    ax.set_title("Efficient frontier: best response for each budget")
    ax.legend(fontsize=8)
    _thousands(ax)
    _compact(ax, "x")  # budgets in the millions would run into each other
    return fig


def plot_waterfall(fit: Any, decomposition: pd.DataFrame | None = None) -> Figure:
    """The fitted KPI over the window built up step by step: baseline, then each channel.

    The first bar is the baseline (every non-media component summed); each channel's
    bar starts where the previous one ended and its height is the channel's
    contribution over the window (KPI units). The last bar is the fitted KPI, the
    sum of all steps (components sum to ``fitted`` in ``decomposition.csv``).

    Parameters
    ----------
    fit : fit result or mapping
        A fit result or its ``summary.json`` document (gives the channel names).
    decomposition : DataFrame, optional
        The ``decomposition.csv`` table; defaults to the fit result's own.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; a bar for the baseline, one per channel, and the total.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "actual": [10.0, 12.0],
    ...                       "fitted": [10.5, 11.5], "intercept": [8.0, 8.0],
    ...                       "tv": [2.5, 3.5]})
    >>> fig = plot_waterfall({"kpi": "sales", "channels": {"tv": {}}}, table)
    >>> [float(bar.get_height()) for bar in fig.axes[0].patches]
    [16.0, 6.0, 22.0]
    """
    summary = _summary(fit)
    table = _decomposition(fit, decomposition)
    channels = list(summary["channels"])
    baseline = [c for c in table.columns if c not in {"date", "actual", "fitted", *channels}]
    # one baseline bar: its parts (intercept, trend, a control with a negative effect)
    # can be far larger than the media steps and would hide them
    names = ["baseline", *channels]
    values = [float(table[baseline].to_numpy(float).sum())] + [
        float(table[c].sum()) for c in channels
    ]
    starts = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    total = float(np.sum(values))
    fig, axes = _figure(max(6.5, 0.55 * (len(names) + 1) + 2.0), 3.8)
    ax = axes[0, 0]
    x = np.arange(len(names) + 1)
    colours = [BASELINE_COLOUR] + [channel_style(i)["color"] for i in range(len(channels))]
    ax.bar(x[:-1], values, bottom=starts, color=colours, edgecolor="black", lw=0.4)
    ax.bar([x[-1]], [total], color="#444444", edgecolor="black", lw=0.4)
    ax.set_xticks(x, [*names, "fitted"], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(str(summary.get("kpi") or "KPI"))
    ax.set_title("Waterfall: how baseline and channels add up to the fitted KPI")
    _thousands(ax)
    return fig


def plot_roi_bases(table: pd.DataFrame, *, metric: str = "roi") -> Figure:
    """ROI (or marginal ROI) per channel on each basis, with 90% intervals.

    Parameters
    ----------
    table : DataFrame
        One row per channel and basis: ``channel``, ``basis``, ``roi``, ``mroi``
        and optional ``roi_low``, ``roi_high`` (NaN where there is no interval).
    metric : {"roi", "mroi"}
        Which column the bars show; intervals are drawn for ``roi`` only.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with grouped bars (one group per channel, one bar per basis)
        and the break-even line at 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["tv", "tv"], "basis": ["model", "plan"],
    ...                   "roi": [1.2, 1.5], "mroi": [0.8, 0.9],
    ...                   "roi_low": [0.9, 1.1], "roi_high": [1.6, 1.9]})
    >>> fig = plot_roi_bases(t)
    >>> [float(b.get_height()) for b in fig.axes[0].patches]
    [1.2, 1.5]
    """
    channels = list(dict.fromkeys(table["channel"]))
    bases = list(dict.fromkeys(table["basis"]))
    width = 0.8 / max(len(bases), 1)
    fig, axes = _figure(6.5, 3.6)
    ax = axes[0, 0]
    x = np.arange(len(channels))
    hatches = ["", "//", "..", "xx"]
    for j, basis in enumerate(bases):
        rows = table[table["basis"] == basis].set_index("channel").reindex(channels)
        values = rows[metric].to_numpy(float)
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(
            pos,
            values,
            width,
            color=PALETTE[j % len(PALETTE)],
            hatch=hatches[j % len(hatches)] or None,
            edgecolor="white",
            label=basis,
        )
        if metric == "roi" and {"roi_low", "roi_high"} <= set(rows.columns):
            low = rows["roi_low"].to_numpy(float)
            high = rows["roi_high"].to_numpy(float)
            ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(values)
            if ok.any():
                ax.errorbar(
                    pos[ok],
                    values[ok],
                    yerr=[
                        np.maximum(values[ok] - low[ok], 0),
                        np.maximum(high[ok] - values[ok], 0),
                    ],
                    fmt="none",
                    ecolor="black",
                    capsize=3,
                    lw=1,
                )
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xticks(x, channels)
    ax.set_ylabel("KPI per unit of spend")
    label = "ROI (90% interval)" if metric == "roi" else "Marginal ROI"
    ax.set_title(f"{label} by channel; dashed: break-even")
    ax.legend(fontsize=8)
    return fig


def plot_fit_diagnostics(
    decomposition: pd.DataFrame, *, holdout_start: str | None = None
) -> Figure:
    """Actual against fitted KPI over time, and the residuals, holdout weeks shaded.

    Parameters
    ----------
    decomposition : DataFrame
        The ``decomposition.csv`` table (``date``, ``actual``, ``fitted``, ...).
    holdout_start : str, optional
        First date the model did not train on; the weeks from it on are shaded.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: actual and fitted; residuals (actual - fitted).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "actual": [10.0, 12.0],
    ...                   "fitted": [10.5, 11.5]})
    >>> fig = plot_fit_diagnostics(t)
    >>> fig.axes[1].lines[0].get_ydata().tolist()
    [-0.5, 0.5]
    """
    dates = pd.to_datetime(decomposition["date"])
    actual = decomposition["actual"].to_numpy(float)
    fitted = decomposition["fitted"].to_numpy(float)
    fig, axes = _figure(10, 4.6, 2, 1, sharex=True, height_ratios=[2, 1.2])
    top, bottom = axes[0, 0], axes[1, 0]
    top.plot(dates, actual, color="black", lw=1.0, label="actual")
    top.plot(dates, fitted, color=PALETTE[0], lw=1.2, ls="--", label="fitted")
    bottom.plot(dates, actual - fitted, color=PALETTE[5], lw=1.0, marker=".", ms=3)
    bottom.axhline(0.0, color="grey", lw=0.8)
    if holdout_start is not None:
        start = pd.Timestamp(holdout_start)
        for ax in (top, bottom):
            ax.axvspan(start, dates.max(), color=BASELINE_COLOUR, alpha=0.35, lw=0)
        top.text(start, float(np.nanmax(actual)), " holdout", va="top", fontsize=8)
    top.set_title("Actual vs fitted KPI (holdout weeks shaded)")
    top.legend(fontsize=8, loc="upper left")
    bottom.set_title("Residuals (actual - fitted)", fontsize=10)
    _thousands(top)
    _thousands(bottom)
    return fig


def plot_mmm_vs_mta(table: pd.DataFrame) -> Figure:
    """Each channel's share of credit under the MMM and under each attribution method.

    Parameters
    ----------
    table : DataFrame
        ``channel`` and one column per method with the channel's share (0-1);
        the MMM column is named ``mmm``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with grouped bars, one group per channel.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["tv", "search"], "mmm": [0.6, 0.4],
    ...                   "markov": [0.3, 0.7]})
    >>> fig = plot_mmm_vs_mta(t)
    >>> len(fig.axes[0].patches)
    4
    """
    methods = [c for c in table.columns if c != "channel"]
    channels = table["channel"].tolist()
    width = 0.8 / max(len(methods), 1)
    fig, axes = _figure(6.5, 3.6)
    ax = axes[0, 0]
    x = np.arange(len(channels))
    for j, method in enumerate(methods):
        ax.bar(
            x - 0.4 + width * (j + 0.5),
            table[method].to_numpy(float),
            width,
            color=PALETTE[j % len(PALETTE)],
            hatch=_HATCHES[j % len(_HATCHES)] or None,
            edgecolor="white",
            label=method,
        )
    ax.set_xticks(x, channels)
    ax.set_ylabel("share of credit")
    ax.set_title("MMM vs multi-touch attribution: share of credit by channel")
    ax.legend(fontsize=8)
    return fig
