"""The executive report: one list of sections rendered as HTML and as PDF.

A report is built once as :class:`Section` objects (a heading, sentences, an
optional chart with its text alternative, an optional table); the HTML and the
PDF render the same sections, so they carry the same content. Page 1 is the
executive summary of :mod:`mediamix.reporting.story`; every later section starts
on a new page in print (CSS ``break-before``) and in the PDF (one page each).

The charts are the figures of :mod:`mediamix.reporting.plots`: inline SVG in the
HTML (nothing fetched, it opens offline), raster images on the PDF pages. Both
renderings fix every id, salt and date, so the same inputs give the same bytes.
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mediamix.reporting import plots
from mediamix.reporting.story import ExecutiveSummary, current_spend, executive_summary, money

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ReportInputs", "Section", "report_html", "report_pdf", "report_sections"]


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows, from one model and one plan.

    Attributes
    ----------
    summary : mapping
        The model's ``summary.json`` document.
    decomposition : DataFrame
        The model's ``decomposition.csv`` table.
    plan : mapping
        The ``plan.json`` document.
    roi : DataFrame
        One row per channel and basis: ``channel``, ``basis``, ``spend``, ``roi``,
        ``roi_low``, ``roi_high``, ``mroi`` (the model as fitted and, when the
        plan used an ensemble or posterior draws, the same figures on that basis).
    curves : DataFrame
        Response curves on the plan's basis: ``channel``, ``spend``, ``response``,
        ``response_lower``, ``response_upper``.
    frontier : mapping, optional
        ``{"points": [{"budget", "response"}, ...]}``; the plan's own when it has one.
    spend_variation : mapping of str to float
        Coefficient of variation of each channel's spend per period.
    model_card : mapping of str to str
        Facts about the model (engine, window, transforms, priors, version, ...).
    attribution : DataFrame, optional
        ``channel`` and one share column per method, ``mmm`` included.
    drift : mapping, optional
        A ``drift.json`` document.
    holdout_start : str, optional
        First date of the model's holdout weeks.
    basis_note : str
        One sentence saying which basis the plan used.
    """

    summary: Mapping[str, Any]
    decomposition: pd.DataFrame
    plan: Mapping[str, Any]
    roi: pd.DataFrame
    curves: pd.DataFrame
    frontier: Mapping[str, Any] | None = None
    spend_variation: Mapping[str, float] = field(default_factory=dict)
    model_card: Mapping[str, str] = field(default_factory=dict)
    attribution: pd.DataFrame | None = None
    drift: Mapping[str, Any] | None = None
    holdout_start: str | None = None
    basis_note: str = ""


@dataclass(frozen=True)
class Section:
    """One page of the report: heading, sentences, charts with text alternatives, a table."""

    title: str
    paragraphs: tuple[str, ...] = ()
    bullets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    charts: tuple[tuple[Figure, str], ...] = ()
    table: pd.DataFrame | None = None


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}"
    return str(value)


def _summary_section(page: ExecutiveSummary, title: str) -> Section:
    return Section(title=title, bullets=page.sections)


def _decomposition_section(inputs: ReportInputs) -> Section:
    table = inputs.decomposition
    channels = list(inputs.summary["channels"])
    baseline = [c for c in table.columns if c not in {"date", "actual", "fitted", *channels}]
    fitted = float(table["fitted"].sum())
    parts = [("baseline", float(table[baseline].to_numpy(float).sum()))]
    parts += [(c, float(table[c].sum())) for c in channels]
    alt_waterfall = (
        "Waterfall of the fitted KPI over the window: "
        + "; ".join(f"{c} {money(v)} ({v / fitted:.1%})" for c, v in parts)
        + f"; fitted total {money(fitted)}."
    )
    totals = {c: float(table[c].to_numpy(float).sum()) for c in channels}
    biggest = max(totals, key=lambda c: totals[c]) if channels else ""
    peak = table["date"].iloc[int(np.argmax(table[biggest].to_numpy(float)))] if channels else ""
    alt_time = (
        f"Stacked contributions per period from {table['date'].iloc[0]} to "
        f"{table['date'].iloc[-1]}; the largest channel, {biggest}, peaks on {peak}. "
        "The lower panel shows actual and fitted KPI."
    )
    return Section(
        title="What drove the KPI: decomposition",
        paragraphs=(
            "The waterfall adds each channel's contribution to the baseline (trend, "
            "season, controls) over the whole window; the second chart shows the same "
            "split per period.",
        ),
        charts=(
            (plots.plot_waterfall(inputs.summary, table), alt_waterfall),
            (plots.plot_decomposition(inputs.summary, table), alt_time),
        ),
    )


def _roi_section(inputs: ReportInputs) -> Section:
    roi = inputs.roi
    rows = roi.assign(
        interval=[
            f"{lo:.2f}-{hi:.2f}" if np.isfinite(lo) and np.isfinite(hi) else "-"
            for lo, hi in zip(roi["roi_low"], roi["roi_high"], strict=True)
        ]
    )[["channel", "basis", "spend", "roi", "interval", "mroi"]]
    rows.columns = ["channel", "basis", "spend", "ROI", "ROI 90% interval", "marginal ROI"]
    alt = (
        "ROI by channel and basis: "
        + "; ".join(
            f"{r['channel']} ({r['basis']}) {r['roi']:.2f}"
            + (f" [{r['roi_low']:.2f}-{r['roi_high']:.2f}]" if np.isfinite(r["roi_low"]) else "")
            for r in roi.to_dict("records")
        )
        + "."
    )
    alt_m = (
        "Marginal ROI by channel and basis: "
        + "; ".join(f"{r.channel} ({r.basis}) {r.mroi:.2f}" for r in roi.itertuples())
        + "."
    )
    return Section(
        title="Return on investment by channel",
        paragraphs=(
            "ROI is contribution divided by spend over the window; marginal ROI is the "
            "return of the next unit of spend at today's level. Above 1 a channel pays back.",
            inputs.basis_note,
        ),
        charts=(
            (plots.plot_roi_bases(roi), alt),
            (plots.plot_roi_bases(roi, metric="mroi"), alt_m),
        ),
        table=rows,
    )


def _curves_section(inputs: ReportInputs) -> Section:
    now = current_spend(inputs.summary, inputs.plan)
    plan = inputs.plan["channels"]
    alt = (
        "Response curves on the plan's basis, with the 90% band: "
        + "; ".join(
            f"{c}: current spend {money(now.get(c, 0.0))}, recommended {money(float(plan[c]['spend']))}"
            for c in plan
        )
        + "."
    )
    return Section(
        title="Response curves",
        paragraphs=(
            "Expected response of each channel to its total spend over the plan, on the "
            "plan's basis, with the 90% band. Black dot: current spend; white diamond: "
            "recommended. Where a curve flattens, more spend buys little.",
        ),
        charts=(
            (plots.plot_response_curves(inputs.curves, current=now, plan=inputs.plan, cols=2), alt),
        ),
    )


def _budget_section(inputs: ReportInputs) -> Section:
    now = current_spend(inputs.summary, inputs.plan)
    rows = []
    for c, p in inputs.plan["channels"].items():
        before = now.get(c, 0.0)
        rows.append(
            {
                "channel": c,
                "current spend": before,
                "recommended spend": float(p["spend"]),
                "change": f"{float(p['spend']) / before - 1:+.0%}" if before else "new",
                "expected response": p.get("response"),
                "marginal ROI": p.get("marginal_roi"),
            }
        )
    table = pd.DataFrame(rows)
    alt = (
        "Current vs recommended spend: "
        + "; ".join(
            f"{r['channel']} {money(r['current spend'])} to {money(r['recommended spend'])} "
            f"({r['change']})"
            for r in rows
        )
        + "."
    )
    return Section(
        title="Budget shift: current vs recommended",
        paragraphs=tuple(str(n) for n in inputs.plan.get("notes") or ())
        or (f"Plan status: {inputs.plan.get('status')}.",),
        charts=((plots.plot_budget_shift(inputs.plan, current=now), alt),),
        table=table,
    )


def _scenarios_section(inputs: ReportInputs) -> Section | None:
    """The plan's scenarios side by side (current, optimized, recommended, what-ifs)."""
    scenarios = inputs.plan.get("scenarios") or {}
    if not scenarios:
        return None
    rows = []
    for name, block in scenarios.items():
        interval = block.get("response_interval")
        rows.append(
            {
                "scenario": name,
                "total spend": block.get("total_spend"),
                "expected response": block.get("total_response"),
                "90% interval": (
                    f"{money(float(interval[0]))} to {money(float(interval[1]))}"
                    if interval
                    else "-"
                ),
                "ROI": block.get("roi"),
                "change vs current": block.get("change_vs_current"),
                "chance to beat current": block.get("probability_better"),
            }
        )
    return Section(
        title="Scenarios",
        paragraphs=(
            "Every scenario of the plan on the same basis as the recommendation: its "
            "expected response, interval and the share of the model's draws in which it "
            "beats the current mix.",
        ),
        table=pd.DataFrame(rows),
    )


def _frontier_section(inputs: ReportInputs) -> Section | None:
    frontier = inputs.frontier or inputs.plan.get("frontier")
    points = (frontier or {}).get("points") or []
    if len(points) < 2:
        return None
    doc = {"frontier": {"points": points}, "scenarios": inputs.plan.get("scenarios") or {}}
    alt = (
        "Efficient frontier, best expected response by total budget: "
        + "; ".join(f"{money(float(p['budget']))} -> {money(float(p['response']))}" for p in points)
        + "."
    )
    basis = (frontier or {}).get("basis")
    return Section(
        title="Efficient frontier",
        paragraphs=(
            "The best expected response the model sees for each total budget, from half "
            "to twice today's spend. Where the line flattens, each extra unit of budget "
            "returns less.",
            f"Drawn on the {basis} (the plan carries no frontier: optimize with "
            "--frontier to draw it on the plan's basis and constraints)."
            if basis
            else "Drawn on the plan's basis, under its constraints.",
        ),
        charts=((plots.plot_frontier(doc), alt),),
    )


def _attribution_section(inputs: ReportInputs) -> Section | None:
    table = inputs.attribution
    if table is None or table.empty:
        return None
    methods = [c for c in table.columns if c != "channel"]
    alt = (
        "Share of credit by channel: "
        + "; ".join(
            f"{r['channel']}: " + ", ".join(f"{m} {float(r[m]):.0%}" for m in methods)
            for r in table.to_dict("records")
        )
        + "."
    )
    return Section(
        title="MMM vs multi-touch attribution",
        paragraphs=(
            "The MMM credits channels from aggregate spend and KPI; multi-touch "
            "attribution from user journeys. Where they disagree, journeys miss what "
            "cannot be tracked (TV, offline) and the MMM misses what spend does not show.",
        ),
        charts=((plots.plot_mmm_vs_mta(table), alt),),
        table=table,
    )


def _diagnostics_section(inputs: ReportInputs) -> Section:
    summary = inputs.summary
    metrics = summary.get("metrics") or {}
    info = summary.get("info") or {}
    rows = [{"measure": k, "value": _fmt(v)} for k, v in metrics.items()]
    if info.get("holdout_nrmse") is not None:
        rows.append({"measure": "holdout nrmse", "value": _fmt(float(info["holdout_nrmse"]))})
    diag = info.get("diagnostics") or {}
    for key in ("max_rhat", "divergences", "min_ess_bulk", "min_ess_tail"):
        if diag.get(key) is not None:
            rows.append({"measure": key.replace("_", " "), "value": _fmt(diag[key])})
    table = inputs.decomposition
    residual = table["actual"].to_numpy(float) - table["fitted"].to_numpy(float)
    alt = (
        f"Actual vs fitted KPI and residuals over {len(table)} periods; residuals range "
        f"from {money(float(residual.min()))} to {money(float(residual.max()))}"
        + (f"; holdout from {inputs.holdout_start}" if inputs.holdout_start else "")
        + "."
    )
    return Section(
        title="Fit diagnostics",
        paragraphs=(
            "How closely the model follows the KPI, in and out of sample. Residuals "
            "with a pattern (a trend, a season) mean the model misses something.",
        ),
        charts=((plots.plot_fit_diagnostics(table, holdout_start=inputs.holdout_start), alt),),
        table=pd.DataFrame(rows),
    )


def _quality_section(inputs: ReportInputs) -> Section:
    lines = [str(w) for w in inputs.summary.get("warnings") or []]
    drift = inputs.drift
    if drift is not None:
        verdict = "retraining is due" if drift.get("retrain") else "no retraining needed"
        lines.append(f"Drift check: {verdict}.")
        lines += [str(r) for r in drift.get("reasons") or []]
    if not lines:
        lines.append("The data passed validation without warnings.")
    table = pd.DataFrame(
        [
            {
                "channel": c,
                "spend": float(inputs.summary["channels"][c]["spend"]),
                "spend variation (std/mean per period)": f"{cv:.0%}",
            }
            for c, cv in inputs.spend_variation.items()
        ]
    )
    return Section(
        title="Data quality and drift",
        bullets={"Notes": lines},
        table=table if len(table) else None,
    )


def _card_section(inputs: ReportInputs) -> Section:
    table = pd.DataFrame([{"item": k, "value": v} for k, v in inputs.model_card.items()])
    return Section(title="Model card", table=table)


def report_sections(inputs: ReportInputs, title: str = "Marketing mix report") -> list[Section]:
    """The report's sections in order: page 1, then one page per analysis.

    Examples
    --------
    See :func:`mediamix.service.report.render_report`, which builds the inputs
    from a fitted model and a plan.
    """
    page = executive_summary(inputs.summary, inputs.plan, spend_variation=inputs.spend_variation)
    sections: list[Section | None] = [
        _summary_section(page, title),
        _decomposition_section(inputs),
        _roi_section(inputs),
        _curves_section(inputs),
        _budget_section(inputs),
        _scenarios_section(inputs),
        _frontier_section(inputs),
        _attribution_section(inputs),
        _diagnostics_section(inputs),
        _quality_section(inputs),
        _card_section(inputs),
    ]
    return [s for s in sections if s is not None]


# ---- HTML ---------------------------------------------------------------------------


def _svg(fig: Figure, alt: str, key: str) -> str:
    import matplotlib

    buffer = io.StringIO()
    # a fixed id salt and no creation date: the same inputs give the same bytes
    with matplotlib.rc_context({"svg.hashsalt": f"mediamix-{key}"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.find("<svg") :]
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)
    return f"<figure>{svg}<figcaption>{html.escape(alt)}</figcaption></figure>"


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False, name=None)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "color:#1a1a1a;line-height:1.45}h1{font-size:1.7em}h2{border-bottom:2px solid #0072B2;"
    "padding-bottom:.2em}h3{margin-bottom:.2em}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #bbb;"
    "padding:4px 8px;text-align:right}th{background:#eef3f8}td:first-child{text-align:left}"
    "figure{margin:1em 0}figcaption{font-size:.85em;color:#444}svg{max-width:100%;height:auto}"
    "section.page{margin-bottom:2.5em}"
    "@media print{section.page{break-before:page}section.page:first-of-type{break-before:auto}"
    "body{max-width:none}}"
)


def report_html(inputs: ReportInputs, title: str = "Marketing mix report") -> str:
    """The report as one self-contained HTML document (inline SVG, no external file).

    Each section is a ``<section class="page">`` that starts a new page in print;
    each chart carries its text alternative as ``aria-label`` and as a caption.
    """
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for k, section in enumerate(report_sections(inputs, title)):
        body = [] if k == 0 else [f"<h2>{html.escape(section.title)}</h2>"]
        if k == 0:
            body.append("<h2>Executive summary</h2>")
        body += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs if p]
        for heading, lines in section.bullets.items():
            body.append(f"<h3>{html.escape(heading)}</h3><ul>")
            body += [f"<li>{html.escape(line)}</li>" for line in lines]
            body.append("</ul>")
        for j, (fig, alt) in enumerate(section.charts):
            body.append(_svg(fig, alt, f"{k}-{j}"))
        if section.table is not None:
            body.append(_html_table(section.table))
        parts.append('<section class="page">' + "\n".join(body) + "</section>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


# ---- PDF ----------------------------------------------------------------------------

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_WRAP = 100  # characters per line at the body font size


def _raster(fig: Figure) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(110)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


class _Page:
    """A4 pages filled top-down; a new page when the next block does not fit."""

    def __init__(self, pages: Any, title: str) -> None:
        self.pages, self.title = pages, title
        self.fig: Any = None
        self.y = 0.0
        self.number = 0

    def _new(self) -> None:
        from matplotlib.figure import Figure

        self.close()
        self.number += 1
        self.fig = Figure(figsize=_PAGE)
        self.fig.text(0.06, 0.975, self.title, fontsize=7, color="#555555", parse_math=False)
        self.fig.text(0.94, 0.975, f"page {self.number}", fontsize=7, ha="right", color="#555")
        self.y = 0.95

    def close(self) -> None:
        if self.fig is not None:
            self.pages.savefig(self.fig)
            self.fig = None

    def start(self) -> None:
        self._new()

    def need(self, height: float) -> Any:
        if self.fig is None or self.y - height < 0.04:
            self._new()
        return self.fig

    def text(self, text: str, size: float = 9, weight: str = "normal", indent: float = 0.0) -> None:
        lines = textwrap.wrap(text, int(_WRAP * 9 / size) - int(indent * 100)) or [""]
        step = size / 72 * 1.45 / _PAGE[1]
        for line in lines:
            fig = self.need(step)
            # the text is the user's (plan notes, scenario names): never matplotlib's mathtext
            fig.text(
                0.06 + indent,
                self.y,
                line,
                fontsize=size,
                weight=weight,
                va="top",
                parse_math=False,
            )
            self.y -= step
        self.y -= step * 0.3

    def image(self, pixels: np.ndarray, caption: str) -> None:
        h, w = pixels.shape[:2]
        width = 0.88
        height = min(width * _PAGE[0] / _PAGE[1] * h / w, 0.55)
        fig = self.need(height + 0.02)
        ax = fig.add_axes((0.06, self.y - height, width, height))
        ax.imshow(pixels, interpolation="antialiased")
        ax.set_axis_off()
        self.y -= height + 0.01
        self.text(caption, size=7)

    def table(self, table: pd.DataFrame) -> None:
        rows = [[_fmt(v) for v in row] for row in table.itertuples(index=False, name=None)]
        row_h = 0.018
        for start in range(0, len(rows), 30):
            chunk = rows[start : start + 30]
            height = row_h * (len(chunk) + 1)
            fig = self.need(height + 0.01)
            ax = fig.add_axes((0.06, self.y - height, 0.88, height))
            ax.set_axis_off()
            labels = [str(c) for c in table.columns]
            widths = np.array(
                [
                    max([len(labels[j]), *(len(r[j]) for r in chunk)]) + 2
                    for j in range(len(labels))
                ],
                float,
            )
            cells = ax.table(
                cellText=chunk,
                colLabels=labels,
                colWidths=list(widths / widths.sum()),
                loc="upper center",
            )
            for cell in cells.get_celld().values():
                cell.get_text().set_parse_math(False)
            cells.auto_set_font_size(False)
            cells.set_fontsize(7)
            cells.scale(1.0, 1.0)
            self.y -= height + 0.015


def report_pdf(inputs: ReportInputs, title: str = "Marketing mix report") -> bytes:
    """The report's sections as an A4 PDF, each section from a new page.

    Same sections, sentences, charts and tables as :func:`report_html`; the
    document carries no creation date, so the same inputs give the same bytes.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"CreationDate": None, "Creator": "mediamix"}) as pdf:
        page = _Page(pdf, title)
        for k, section in enumerate(report_sections(inputs, title)):
            page.start()
            page.text(title if k == 0 else section.title, size=15 if k == 0 else 13, weight="bold")
            if k == 0:
                page.text("Executive summary", size=12, weight="bold")
            for paragraph in section.paragraphs:
                if paragraph:
                    page.text(paragraph)
            for heading, lines in section.bullets.items():
                page.text(heading, size=10.5, weight="bold")
                for line in lines:
                    page.text("- " + line, indent=0.01)
            for fig, alt in section.charts:
                page.image(_raster(fig), alt)
            if section.table is not None:
                page.table(section.table)
        page.close()
    return buffer.getvalue()
