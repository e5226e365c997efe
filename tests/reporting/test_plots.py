"""Each plotting helper draws the numbers it is given, from results or their documents."""

from __future__ import annotations

import io
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from mediamix.reporting import plots


def _bar_heights(ax: Any) -> list[float]:
    return [float(p.get_height()) for p in ax.patches]


def test_helpers_draw_without_pyplot_figures_or_display() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = plots.plot_roi({"kpi_type": "revenue", "channels": {"tv": {"roi": 1.5}}})
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before  # not registered with pyplot: nothing to show or leak
    assert matplotlib.get_backend().lower() == "agg" or fig.canvas is not None


def test_decomposition_stacks_to_fitted_and_draws_actual(fitted: Any) -> None:
    table = fitted.result.decomposition()
    channels = list(fitted.summary["channels"])
    fig = plots.plot_decomposition(fitted.result)
    top, bottom = fig.axes
    areas = [c for c in top.collections if isinstance(c, PolyCollection)]
    assert len(areas) == 1 + len(channels)
    ys = areas[-1].get_paths()[0].vertices[:, 1]
    # the top of the stack is baseline + every channel = the fitted KPI, period by period
    for value in table["fitted"]:
        assert np.min(np.abs(ys - value)) <= 1e-6 * abs(value)
    np.testing.assert_allclose(top.lines[0].get_ydata(), table["actual"])
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert labels == ["baseline", *channels, "actual"]
    actual, fitted_line = bottom.lines
    np.testing.assert_allclose(actual.get_ydata(), table["actual"])
    np.testing.assert_allclose(fitted_line.get_ydata(), table["fitted"])


def test_decomposition_from_documents_needs_the_table(fitted: Any) -> None:
    with pytest.raises(TypeError, match="decomposition"):
        plots.plot_decomposition(fitted.summary)
    fig = plots.plot_decomposition(fitted.summary, fitted.result.decomposition())
    assert len(fig.axes) == 2


def test_contribution_bars_are_the_summary_contributions(fitted: Any) -> None:
    channels = fitted.summary["channels"]
    fig = plots.plot_contributions(fitted.result)
    ax = fig.axes[0]
    expected = sorted((c["contribution"] for c in channels.values()), reverse=True)
    np.testing.assert_allclose([p.get_width() for p in ax.patches], expected)
    shares = sorted((c["contribution_share"] for c in channels.values()), reverse=True)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{s:.1%}" for s in shares]


def test_roi_bars_and_intervals_are_the_summary_rois(fitted: Any) -> None:
    channels = fitted.summary["channels"]
    fig = plots.plot_roi(fitted.summary)
    ax = fig.axes[0]
    np.testing.assert_allclose(_bar_heights(ax), [c["roi"] for c in channels.values()])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(channels)
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = bars.get_segments()
    assert len(segments) == len(channels)
    for segment, channel in zip(segments, channels.values(), strict=True):
        low, high = channel["roi_interval"]
        np.testing.assert_allclose(
            sorted(segment[:, 1]), [min(low, channel["roi"]), max(high, channel["roi"])]
        )


def test_conversions_kpi_shows_cpa_and_missing_values_have_no_bar() -> None:
    summary = {
        "kpi_type": "conversions",
        "channels": {"tv": {"cpa": 40.0, "roi": None}, "radio": {"cpa": None, "roi": None}},
    }
    fig = plots.plot_roi(summary)
    ax = fig.axes[0]
    heights = _bar_heights(ax)
    assert heights[0] == 40.0
    assert np.isnan(heights[1])
    assert "acquisition" in ax.get_title()


def test_response_curves_of_a_fit_mark_current_spend_at_its_contribution(fitted: Any) -> None:
    curves = fitted.result.response_curves()
    channels = fitted.summary["channels"]
    fig = plots.plot_response_curves(fitted.result)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == list(channels)
    for ax, name in zip(visible, channels, strict=True):
        line, current = ax.lines[:2]
        rows = curves[curves["channel"] == name]
        np.testing.assert_allclose(line.get_xdata(), rows["spend"])
        np.testing.assert_allclose(line.get_ydata(), rows["response"])
        # at today's spend the curve's response is the channel's fitted contribution
        np.testing.assert_allclose(current.get_xdata(), [channels[name]["spend"]])
        np.testing.assert_allclose(current.get_ydata(), [channels[name]["contribution"]], rtol=1e-9)


def test_response_curves_draw_the_band_and_the_recommended_spend() -> None:
    frame = pd.DataFrame(
        {
            "channel": ["tv"] * 3 + ["search"] * 3,
            "spend": [0.0, 50.0, 100.0] * 2,
            "response": [0.0, 80.0, 120.0, 0.0, 30.0, 40.0],
            "response_lower": [0.0, 60.0, 90.0, 0.0, 20.0, 25.0],
            "response_upper": [0.0, 95.0, 150.0, 0.0, 40.0, 55.0],
        }
    )
    plan = {"channels": {"tv": {"spend": 100.0}, "search": {"spend": 0.0}}}
    fig = plots.plot_response_curves(frame, current={"tv": 50.0, "search": 50.0}, plan=plan)
    tv = fig.axes[0]
    (band,) = [c for c in tv.collections if isinstance(c, PolyCollection)]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() == 150.0
    current, recommended = tv.lines[1:3]
    assert (current.get_xdata()[0], current.get_ydata()[0]) == (50.0, 80.0)
    assert (recommended.get_xdata()[0], recommended.get_ydata()[0]) == (100.0, 120.0)


def test_response_curves_accept_the_per_channel_mapping() -> None:
    curves = {"tv": {"spend": [0.0, 10.0], "response": [0.0, 5.0]}}
    fig = plots.plot_response_curves(curves)
    assert fig.axes[0].lines[0].get_ydata().tolist() == [0.0, 5.0]
    with pytest.raises(ValueError, match="response"):
        plots.plot_response_curves(pd.DataFrame({"channel": ["tv"], "spend": [1.0]}))
    with pytest.raises(TypeError, match="response curves"):
        plots.plot_response_curves(42)


def test_budget_shift_bars_are_current_then_recommended(fitted: Any, plan_doc: Any) -> None:
    names = list(plan_doc["channels"])
    fig = plots.plot_budget_shift(plan_doc, current=fitted.result)
    ax = fig.axes[0]
    current = [fitted.summary["channels"][c]["spend"] for c in names]
    recommended = [plan_doc["channels"][c]["spend"] for c in names]
    np.testing.assert_allclose(_bar_heights(ax), current + recommended)
    labels = [t.get_text() for t in ax.texts]
    assert labels == [f"{r / c - 1:+.0%}" for r, c in zip(recommended, current, strict=True)]
    # without current=, the plan's own current scenario is used
    fig = plots.plot_budget_shift(plan_doc)
    scenario = plan_doc["scenarios"]["current"]["channels"]
    np.testing.assert_allclose(
        _bar_heights(fig.axes[0])[: len(names)], [scenario[c]["spend"] for c in names]
    )


def test_budget_shift_needs_current_spend_from_somewhere() -> None:
    with pytest.raises(ValueError, match="current"):
        plots.plot_budget_shift({"channels": {"tv": {"spend": 1.0}}})


def test_frontier_draws_the_plan_points_and_scenarios(plan_doc: Any) -> None:
    fig = plots.plot_frontier(plan_doc)
    ax = fig.axes[0]
    points = plan_doc["frontier"]["points"]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [p["budget"] for p in points])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [p["response"] for p in points])
    assert len(ax.collections) == len(plan_doc["scenarios"])
    with pytest.raises(ValueError, match="frontier"):
        plots.plot_frontier({"channels": {}})


def test_frontier_scenario_names_are_text_not_mathtext() -> None:
    plan = {
        "frontier": {
            "points": [{"budget": 1.0, "response": 2.0}, {"budget": 2.0, "response": 3.0}]
        },
        "scenarios": {"$x^$ plan": {"total_spend": 1.5, "total_response": 2.5}},
    }
    fig = plots.plot_frontier(plan)
    fig.savefig(io.BytesIO(), format="svg")  # an unescaped "$" fails here
    assert fig.axes[0].get_legend().get_texts()[1].get_text() == r"\$x^\$ plan"


def test_wrong_objects_are_named() -> None:
    with pytest.raises(TypeError, match="summary"):
        plots.plot_roi(3.0)
    with pytest.raises(TypeError, match="plan"):
        plots.plot_budget_shift("plan.json", current={})


def test_palette_keeps_more_channels_than_colours_apart() -> None:
    styles = [tuple(plots.channel_style(i).values()) for i in range(20)]
    assert len(set(styles)) == 20
