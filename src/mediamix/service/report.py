"""Use case: write an executive report for a fitted model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_bytes, atomic_write_text
from mediamix.service.fit import load_model

__all__ = ["write_report"]


def write_report(
    model_dir: str | Path,
    out: str | Path,
    *,
    pdf: str | Path | None = None,
    plan: Mapping[str, Any] | str | Path | None = None,
) -> Path:
    """Write ``out`` (HTML, self-contained) and optionally a PDF of the same charts."""
    from mediamix.reporting.html import model_report_html, report_figures

    result = load_model(model_dir)
    summary = result.summary()
    plan_doc: Mapping[str, Any] | None
    if isinstance(plan, str | Path):
        path = Path(plan)
        if not path.is_file():
            raise InputError.single(f"plan file not found: {path}", file=str(path))
        plan_doc = json.loads(path.read_text())
    else:
        plan_doc = plan
    decomposition = result.decomposition()
    out = Path(out)
    atomic_write_text(out, model_report_html(summary, decomposition, plan_doc))
    if pdf is not None:
        import io

        from matplotlib.backends.backend_pdf import PdfPages

        buffer = io.BytesIO()
        with PdfPages(buffer) as pages:
            for fig in report_figures(summary, decomposition, plan_doc).values():
                pages.savefig(fig, bbox_inches="tight")
        atomic_write_bytes(pdf, buffer.getvalue())
    return out
