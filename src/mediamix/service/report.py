"""Use case: write an executive report for a fitted model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_bytes, atomic_write_text
from mediamix.models.result import FitResult
from mediamix.service.fit import load_model
from mediamix.service.requests import ReportRequest, parse_request

__all__ = ["RenderedReport", "render_report", "write_report"]


@dataclass(frozen=True)
class RenderedReport:
    """A rendered report: self-contained HTML, and the charts as PDF when asked."""

    html: str
    pdf: bytes | None = None


def render_report(
    result: FitResult, request: ReportRequest | Mapping[str, Any] | None = None
) -> RenderedReport:
    """Render the report of ``result`` (with the request's plan) in memory."""
    from mediamix.reporting.html import model_report_html, report_figures

    req = parse_request(ReportRequest, request or {})
    summary = result.summary()
    decomposition = result.decomposition()
    html = model_report_html(summary, decomposition, req.plan)
    if not req.pdf:
        return RenderedReport(html=html)
    import io

    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer) as pages:
        for fig in report_figures(summary, decomposition, req.plan).values():
            pages.savefig(fig, bbox_inches="tight")
    return RenderedReport(html=html, pdf=buffer.getvalue())


def write_report(
    model_dir: str | Path,
    out: str | Path,
    *,
    pdf: str | Path | None = None,
    plan: Mapping[str, Any] | str | Path | None = None,
) -> Path:
    """Write ``out`` (HTML, self-contained) and optionally a PDF of the same charts.

    ``plan`` is a ``plan.json`` document or its file.
    """
    result = load_model(model_dir)
    plan_doc: Mapping[str, Any] | None
    if isinstance(plan, str | Path):
        path = Path(plan)
        if not path.is_file():
            raise InputError.single(f"plan file not found: {path}", file=str(path))
        plan_doc = json.loads(path.read_text())
    else:
        plan_doc = plan
    request = ReportRequest(pdf=pdf is not None, plan=dict(plan_doc) if plan_doc else None)
    report = render_report(result, request)
    out = Path(out)
    atomic_write_text(out, report.html)
    if pdf is not None and report.pdf is not None:
        atomic_write_bytes(pdf, report.pdf)
    return out
