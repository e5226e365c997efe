"""The HTML report draws its charts with the plotting helpers and is reproducible."""

from __future__ import annotations

from typing import Any

from mediamix.models.ridge import response_curves
from mediamix.reporting import plots
from mediamix.reporting.html import _svg, model_report_html


def test_same_inputs_give_the_same_bytes(fitted: Any, plan_doc: Any) -> None:
    table = fitted.result.decomposition()
    first = model_report_html(fitted.summary, table, plan_doc)
    second = model_report_html(fitted.summary, table.copy(), dict(plan_doc))
    assert first.encode() == second.encode()
    assert first.count("<svg") == 4  # decomposition, ROI, budget shift, frontier


def test_report_charts_are_the_plot_helpers_charts(fitted: Any, plan_doc: Any) -> None:
    table = fitted.result.decomposition()
    text = model_report_html(fitted.summary, table, plan_doc)
    for figure in (
        plots.plot_decomposition(fitted.summary, table),
        plots.plot_roi(fitted.summary),
        plots.plot_budget_shift(plan_doc, current=fitted.summary),
        plots.plot_frontier(plan_doc),
    ):
        assert _svg(figure) in text


def test_response_curves_section_when_curves_are_given(fitted: Any, plan_doc: Any) -> None:
    table = fitted.result.decomposition()
    curves = response_curves(fitted.result)
    text = model_report_html(fitted.summary, table, plan_doc, curves=curves)
    assert "<h2>Response curves</h2>" in text
    expected = plots.plot_response_curves(curves, current=fitted.summary, plan=plan_doc)
    assert _svg(expected) in text
    assert "<h2>Response curves</h2>" not in model_report_html(fitted.summary, table, plan_doc)
