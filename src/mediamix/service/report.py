"""Use case: the executive report of a fitted model and its plan (HTML, PDF, tables).

Every number in the report comes from one model (the fit output folder) and one
plan (``plan.json``). The plan is made on the model's *planning basis*: a ridge
fit plans on its ensemble of models the data cannot tell apart, a Bayesian fit
on its posterior draws. So that the ROI table and the plan agree, the report
evaluates the same response model the optimizer used
(:class:`~mediamix.models.response.FittedResponse`) and shows ROI, marginal ROI
and response curves on that basis, labelled, beside the model as fitted.

``write_report`` writes either one HTML file (``--out report.html``, the
original form) or a report folder (``--out DIR``)::

    report.html   self-contained, opens offline
    report.pdf    the same sections, A4, one section per page (with --pdf)
    report.json   the page-1 figures and sentences, the files' SHA-256 and the
                  report's hash (what distribution keys its delivery log on)
    roi.csv, plan.csv, tables.xlsx   the tables, safe to open in a spreadsheet
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mediamix.documents import read_json_object
from mediamix.errors import InputError, Problem, problems_from_validation
from mediamix.io.artifacts import sha256_file
from mediamix.io.atomic import atomic_dir, atomic_write_bytes, atomic_write_text
from mediamix.io.exports import csv_text, xlsx_bytes
from mediamix.models.result import FitResult
from mediamix.service.fit import load_model
from mediamix.service.requests import ReportRequest, parse_request

if TYPE_CHECKING:
    from mediamix.aws.storage import StorageConfig
    from mediamix.models.response import FittedResponse
    from mediamix.reporting.executive import ReportInputs
    from mediamix.service.storage import Publication, PublishedVersion

__all__ = [
    "RenderedReport",
    "check_plan",
    "publish_written_report",
    "render_model_dir",
    "render_report",
    "report_inputs",
    "write_report",
]

logger = logging.getLogger(__name__)

#: The label of the plan's basis in the ROI table (the note says which basis it is).
PLAN_BASIS = "plan basis"
#: Spend multiples of today's spend the response curves are drawn over.
CURVE_MULTIPLES = tuple(float(m) for m in np.linspace(0.0, 2.0, 21))
#: Budgets of the efficient frontier, as fractions of today's total (when the plan has none).
FRONTIER_FRACTIONS = tuple(0.5 + 0.1 * k for k in range(16))


# Bounds of the plan's figures: a plan made by the optimizer stays far inside them, and
# a hand-made one outside them would overflow the charts' arithmetic.
_Amount = Annotated[float, Field(ge=0.0, le=1e15, allow_inf_nan=False)]
_Number = Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)]
_Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Open(BaseModel):
    # a plan carries more than the report reads (solver details, bands): kept, not checked
    model_config = ConfigDict(extra="allow")


class _PlanChannel(_Open):
    spend: _Amount
    response: _Number | None = None
    marginal_roi: _Number | None = None


class _Spend(_Open):
    spend: _Amount


class _Scenario(_Open):
    channels: dict[_Name, _Spend] | None = None
    total_spend: _Number
    total_response: _Number
    response_interval: tuple[_Number, _Number] | None = None
    roi: _Number | None = None
    change_vs_current: _Number | None = None
    probability_better: _Number | None = None


class _Comparison(_Open):
    probability_better: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    change_q05: _Number | None = None
    change_q50: _Number | None = None
    change_q95: _Number | None = None
    n_draws: Annotated[int, Field(ge=0, le=10**9)] | None = None

    @model_validator(mode="after")
    def _quantiles(self) -> _Comparison:
        if self.probability_better is not None and None in (
            self.change_q05,
            self.change_q50,
            self.change_q95,
        ):
            raise ValueError("probability_better needs change_q05, change_q50 and change_q95")
        return self


class _Risk(_Open):
    baseline: dict[_Name, _Amount] | None = None
    recommended: _Comparison | None = None
    optimized: _Comparison | None = None
    level: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class _Point(_Open):
    budget: _Number
    response: _Number


class _Frontier(_Open):
    points: list[_Point] = Field(default_factory=list, max_length=1000)


class _PlanDocument(_Open):
    """The parts of plan.json the report reads (CONTRACTS.md), with their types."""

    channels: dict[_Name, _PlanChannel] = Field(min_length=1)
    total_response: _Number
    budget: _Number | None = None
    status: str | None = Field(None, max_length=200)
    notes: list[Annotated[str, Field(max_length=2000)]] | None = Field(None, max_length=100)
    response_interval: tuple[_Number, _Number] | None = None
    risk: _Risk | None = None
    scenarios: dict[Annotated[str, Field(min_length=1, max_length=80)], _Scenario] | None = Field(
        None, max_length=100
    )
    frontier: _Frontier | None = None


def check_plan(plan: Any, channels: Sequence[str], *, file: str = "plan.json") -> None:
    """Check a plan.json document before the report reads it.

    Every problem is reported at once, each naming the field by its key path
    (``channels.tv.spend``). The plan must have been made from the model: the
    same channels, and its scenarios and current mix name none other. A
    week-by-week plan is refused with what to do instead.

    Parameters
    ----------
    plan : object
        The decoded plan document.
    channels : sequence of str
        The model's channels.
    file : str
        Where the plan came from, for the problems.

    Raises
    ------
    InputError
        With one problem per wrong field.

    Examples
    --------
    >>> check_plan({"total_response": 5.0, "channels": {"tv": {"spend": 10.0}}}, ["tv"])
    >>> try:
    ...     check_plan({"channels": {"tv": {"spend": -1}}}, ["tv"])
    ... except InputError as err:
    ...     print(err)
    plan.json, column 'channels.tv.spend': Input should be greater than or equal to 0
    plan.json, column 'total_response': Field required
    """
    if isinstance(plan, Mapping) and "weekly_response" in plan:
        raise InputError.single(
            "a week-by-week plan cannot make the report: make the plan without 'weekly'",
            file=file,
            column="weekly_response",
        )
    try:
        doc = _PlanDocument.model_validate(plan)
    except ValidationError as err:
        raise InputError(problems_from_validation(err, file=file)) from None
    known = set(channels)
    problems = []
    differ = sorted(set(doc.channels) ^ known)
    if differ:
        problems.append(
            Problem(
                f"the plan and the model have different channels ({', '.join(differ)}): "
                "make the plan from this model",
                file=file,
                column="channels",
            )
        )
    named = {"risk.baseline": set((doc.risk.baseline if doc.risk else None) or {})}
    for name, block in (doc.scenarios or {}).items():
        named[f"scenarios.{name}.channels"] = set(block.channels or {})
    for column, names in named.items():
        unknown = sorted(names - known)
        if unknown:
            problems.append(
                Problem(
                    f"channels the model does not have: {', '.join(unknown)}",
                    file=file,
                    column=column,
                )
            )
    current = (doc.scenarios or {}).get("current")
    if current is not None and current.channels is None:
        problems.append(
            Problem(
                "the current scenario needs its channels", file=file, column="scenarios.current"
            )
        )
    if problems:
        raise InputError(problems)


@dataclass(frozen=True)
class RenderedReport:
    """A rendered report: HTML, the PDF when asked, the page-1 figures and the tables."""

    html: str
    pdf: bytes | None = None
    summary: Mapping[str, Any] | None = None
    tables: Mapping[str, pd.DataFrame] | None = None


def _basis(result: FitResult, model: FittedResponse) -> str:
    n = model.n_draws
    if n == 0:
        return ""
    info = result.engine_info
    if info.ensemble:
        return f"ensemble of {len(info.ensemble)} models ({n} draws)"
    return f"posterior ({n} draws)"


def _roi_table(summary: Mapping[str, Any], model: FittedResponse, basis: str) -> pd.DataFrame:
    rows = []
    for name, c in summary["channels"].items():
        interval = c.get("roi_interval") or [np.nan, np.nan]
        rows.append(
            {
                "channel": name,
                "basis": "model as fitted",
                "spend": float(c["spend"]),
                "roi": np.nan if c.get("roi") is None else float(c["roi"]),
                "roi_low": float(interval[0]),
                "roi_high": float(interval[1]),
                "mroi": np.nan if c.get("mroi") is None else float(c["mroi"]),
            }
        )
    if basis:
        current = model.current
        response = model.channel_response(current)
        gradient = model.gradient(current)
        for i, name in enumerate(model.channels):
            alone = np.zeros_like(current)
            alone[i] = current[i]
            draws = model.response_draws(alone)
            spend = float(current[i])
            low, high = (np.quantile(draws, [0.05, 0.95]) / spend) if spend > 0 else (np.nan,) * 2
            rows.append(
                {
                    "channel": name,
                    "basis": PLAN_BASIS,
                    "spend": spend,
                    "roi": float(response[i]) / spend if spend > 0 else np.nan,
                    "roi_low": float(low),
                    "roi_high": float(high),
                    "mroi": float(gradient[i]),
                }
            )
    return pd.DataFrame(rows)


def _curves(model: FittedResponse) -> pd.DataFrame:
    current = model.current
    rows = []
    multiples = np.asarray(CURVE_MULTIPLES)
    for i, name in enumerate(model.channels):
        grid = np.zeros((len(multiples), len(current)))
        grid[:, i] = multiples * current[i]
        mean = model.channel_response(grid)[:, i]
        draws = model.response_draws(grid)  # (S, G): the other channels are at zero
        low, high = np.quantile(draws, [0.05, 0.95], axis=0)
        for k in range(len(multiples)):
            rows.append(
                {
                    "channel": name,
                    "spend": float(grid[k, i]),
                    "response": float(mean[k]),
                    "response_lower": float(min(low[k], mean[k])),
                    "response_upper": float(max(high[k], mean[k])),
                }
            )
    return pd.DataFrame(rows)


def _frontier(result: FitResult) -> dict[str, Any] | None:
    """The frontier of the model as fitted, for plans that carry none.

    Planning each of the 16 budgets on an ensemble or posterior costs a full
    optimization per budget (tens of seconds each); the fitted model's own curves
    take seconds. The report labels the basis it drew.
    """
    from mediamix.models.response import FittedResponse
    from mediamix.optimization.scenarios import efficient_frontier, frontier_block

    model = FittedResponse.from_parts(result.channels, result.data.spend[0])
    try:
        front = efficient_frontier(model, model.current, fractions=FRONTIER_FRACTIONS)
    except InputError:
        logger.info("no efficient frontier for this model: its budgets are infeasible")
        return None
    return {**frontier_block(front), "basis": "model as fitted"}


def _spend_variation(result: FitResult) -> dict[str, float]:
    spend = result.data.spend.sum(axis=0)  # (T, C), national
    mean = spend.mean(axis=0)
    std = spend.std(axis=0)
    return {
        name: float(std[c] / mean[c]) if mean[c] > 0 else 0.0
        for c, name in enumerate(result.channel_names)
    }


def _model_card(
    summary: Mapping[str, Any], plan: Mapping[str, Any], basis: str, manifest: str | None
) -> dict[str, str]:
    from mediamix import __version__

    info = summary.get("info") or {}
    card = {
        "KPI": f"{summary.get('kpi')} ({summary.get('kpi_type')})",
        "data window": f"{summary.get('start')} to {summary.get('end')}, "
        f"{summary.get('n_periods')} periods",
        "engine": str(summary.get("engine")),
        "channels": ", ".join(summary["channels"]),
    }
    for name, c in summary["channels"].items():
        ad, sat = c.get("adstock") or {}, c.get("saturation") or {}
        params = ", ".join(
            f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
            for block in (ad, sat)
            for k, v in block.items()
            if k != "type"
        )
        card[f"transforms: {name}"] = f"{ad.get('type')} adstock, {sat.get('type')} saturation" + (
            f" ({params})" if params else ""
        )
    if info.get("media_prior") is not None:
        card["priors"] = json.dumps(info["media_prior"], sort_keys=True)
    if info.get("lambda") is not None:
        card["ridge penalty"] = f"{float(info['lambda']):.3g}"
    card["plan"] = f"objective {plan.get('objective')}, method {plan.get('method')}"
    card["plan basis"] = basis or "the model as fitted (no draws)"
    if manifest:
        card["model files SHA-256"] = manifest
    card["mediamix version"] = __version__
    return card


def _attribution(folder: str | Path, summary: Mapping[str, Any]) -> pd.DataFrame:
    """Shares of credit per channel: the MMM's and each attribution table's."""
    path = Path(folder)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files:
        raise InputError.single("no attribution table (*.csv) in the folder", file=str(path))
    channels = summary["channels"]
    total = sum(float(c["contribution"]) for c in channels.values()) or 1.0
    table = pd.DataFrame(
        {
            "channel": list(channels),
            "mmm": [float(c["contribution"]) / total for c in channels.values()],
        }
    )
    for file in files:
        frame = pd.read_csv(file)
        if "channel" not in frame.columns:
            raise InputError.single("an attribution table needs a 'channel' column", file=str(file))
        for column in frame.columns:
            if column == "conversions" or column.endswith("_conversions"):
                method = file.stem if column == "conversions" else column[: -len("_conversions")]
                values = pd.to_numeric(frame[column], errors="coerce").fillna(0.0)
                share = values / (values.sum() or 1.0)
                mapping = dict(zip(frame["channel"].astype(str), share, strict=True))
                table[method] = [float(mapping.get(c, 0.0)) for c in channels]
    return table


def report_inputs(
    result: FitResult,
    plan: Mapping[str, Any],
    *,
    summary: Mapping[str, Any] | None = None,
    attribution: str | Path | None = None,
    drift: Mapping[str, Any] | None = None,
    manifest: str | None = None,
    plan_file: str = "plan.json",
) -> ReportInputs:
    """Everything the report shows, from one fitted model and one plan.

    Parameters
    ----------
    result : FitResult
        The fitted model.
    plan : mapping
        The ``plan.json`` document made from this model.
    summary : mapping, optional
        The model's ``summary.json`` (with the data's warnings); default
        ``result.summary()``.
    attribution : path, optional
        A folder of attribution tables (``mediamix attribute`` output) or one table.
    drift : mapping, optional
        A ``drift.json`` document.
    manifest : str, optional
        The model files' SHA-256, shown on the model card.
    plan_file : str
        The plan's file name, for error messages.
    """
    from mediamix.models.response import FittedResponse
    from mediamix.reporting.executive import ReportInputs

    summary = dict(summary) if summary is not None else result.summary()
    check_plan(plan, list(summary["channels"]), file=plan_file)
    model = FittedResponse(result)
    basis = _basis(result, model)
    has_frontier = len(((plan.get("frontier") or {}).get("points")) or []) >= 2
    info = summary.get("info") or {}
    return ReportInputs(
        summary=summary,
        decomposition=result.decomposition(),
        plan=plan,
        roi=_roi_table(summary, model, basis),
        curves=_curves(model),
        frontier=None if has_frontier else _frontier(result),
        spend_variation=_spend_variation(result),
        model_card=_model_card(summary, plan, basis, manifest),
        attribution=_attribution(attribution, summary) if attribution is not None else None,
        drift=drift,
        holdout_start=info.get("validation_start"),
        basis_note=(
            f"The plan was made on the model's {basis}: the rows labelled "
            f"'{PLAN_BASIS}' show each channel on that basis beside the model as fitted, "
            "so the ROI here and the plan's expectations agree."
            if basis
            else "The plan was made on the model as fitted: one basis throughout."
        ),
    )


def render_report(
    result: FitResult,
    request: ReportRequest | Mapping[str, Any] | None = None,
    *,
    summary: Mapping[str, Any] | None = None,
    manifest: str | None = None,
    plan_file: str = "plan.json",
    html: bool = True,
) -> RenderedReport:
    """Render the report of ``result`` in memory.

    With a plan in the request, the executive report (page 1 from the numbers, then
    the analyses); without one, the model-only report of
    :func:`mediamix.reporting.html.model_report_html`. ``html=False`` skips the
    HTML (``RenderedReport.html`` is empty) when only the PDF is wanted: drawing
    each chart again as SVG costs as much as the PDF itself.
    """
    from mediamix.reporting.executive import report_html, report_pdf
    from mediamix.reporting.story import executive_summary

    req = parse_request(ReportRequest, request or {})
    if req.plan is None:
        return _model_only(result, req, summary, html)
    inputs = report_inputs(
        result,
        req.plan,
        summary=summary,
        attribution=req.attribution,
        drift=req.drift,
        manifest=manifest,
        plan_file=plan_file,
    )
    page = executive_summary(inputs.summary, inputs.plan, spend_variation=inputs.spend_variation)
    plan_table = pd.DataFrame([{"channel": c, **p} for c, p in inputs.plan["channels"].items()])
    return RenderedReport(
        html=report_html(inputs, req.title) if html else "",
        pdf=report_pdf(inputs, req.title) if req.pdf else None,
        summary={"facts": page.facts, "sections": page.sections, "headline": page.headline},
        tables={"roi": inputs.roi, "plan": plan_table, "decomposition": inputs.decomposition},
    )


def _model_only(
    result: FitResult, req: ReportRequest, summary: Mapping[str, Any] | None, html: bool
) -> RenderedReport:
    from mediamix.reporting.html import model_report_html, report_figures

    doc = dict(summary) if summary is not None else result.summary()
    decomposition = result.decomposition()
    page = model_report_html(doc, decomposition, None) if html or not req.pdf else ""
    if not req.pdf:
        return RenderedReport(html=page)
    import io

    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"CreationDate": None}) as pages:
        for fig in report_figures(doc, decomposition, None).values():
            pages.savefig(fig, bbox_inches="tight")
    return RenderedReport(html=page, pdf=buffer.getvalue())


def _manifest_hash(model_dir: Path) -> str | None:
    for folder in (model_dir / "model", model_dir):
        manifest = folder / "manifest.json"
        if manifest.is_file():
            return sha256_file(manifest)
    return None


def render_model_dir(
    model_dir: str | Path,
    request: ReportRequest | Mapping[str, Any] | None = None,
    *,
    result: FitResult | None = None,
    plan_file: str = "plan.json",
    html: bool = True,
) -> RenderedReport:
    """Render the report of the fit in ``model_dir`` in memory, as ``write_report`` does.

    The figures come from the folder's summary.json (with the data's warnings) and
    the model card names the model files' SHA-256, so the CLI's files and the API's
    answer for the same model and plan are the same bytes.

    Parameters
    ----------
    model_dir : path
        A fit output folder (or its ``model/`` folder).
    request : ReportRequest or mapping, optional
        What to render (plan, PDF, attribution, drift).
    result : FitResult, optional
        The model already loaded from ``model_dir`` (default: load it).
    plan_file : str
        The plan's file name, for error messages.
    html : bool
        Render the HTML (``False`` with a PDF request: the PDF alone, faster).

    Examples
    --------
    The report of a fit folder, in memory (``write_report`` writes the files)::

        report = render_model_dir("runs/brand-a", {"pdf": True})
        report.html, report.pdf  # the self-contained HTML and the PDF bytes
    """
    model_dir = Path(model_dir)
    loaded = result if result is not None else load_model(model_dir)
    summary_file = model_dir / "summary.json"
    summary = read_json_object(summary_file, "summary") if summary_file.is_file() else None
    return render_report(
        loaded,
        request,
        summary=summary,
        manifest=_manifest_hash(model_dir),
        plan_file=plan_file,
        html=html,
    )


def write_report(
    model_dir: str | Path,
    out: str | Path,
    *,
    pdf: str | Path | bool | None = None,
    plan: Mapping[str, Any] | str | Path | None = None,
    attribution: str | Path | None = None,
    drift: Mapping[str, Any] | str | Path | None = None,
    publish: Publication | None = None,
) -> Path:
    """Write the report of the fit in ``model_dir``: one HTML file, or a report folder.

    ``out`` ending in ``.html`` writes that file (and ``pdf``, a path, when given);
    any other ``out`` is a folder (see the module docstring) written atomically,
    with ``report.pdf`` when ``pdf`` is true or a path. ``plan`` and ``drift`` are
    documents or their JSON files; ``attribution`` a folder of attribution tables.

    ``model_dir`` may be a stored model (``s3://.../models/NAME[/VERSION]``,
    ``store:NAME``): fetched and verified first. With ``publish`` naming an enabled
    store, what was written is then published as a new version of ``reports/<name>``
    (default name: the folder's, or the HTML file's stem);
    :func:`publish_written_report` does the same for a report already written.
    """
    from mediamix.service.storage import resolve_stored

    storage = publish.storage if publish is not None else None
    publish_as = publish.target(out) if publish is not None else None  # checked before work
    folder = resolve_stored(model_dir, storage) or Path(model_dir)
    written = _write_report(
        folder, Path(out), pdf=pdf, plan=plan, attribution=attribution, drift=drift
    )
    if publish_as is not None and storage is not None:
        publish_written_report(storage, written, publish_as, pdf=pdf)
    return written


def publish_written_report(
    storage: StorageConfig, out: Path, name: str, *, pdf: str | Path | bool | None = None
) -> PublishedVersion:
    """Publish a written report (a folder, or an HTML file and its ``pdf`` path) as a
    new version of ``reports/<name>``."""
    from mediamix.service.storage import publish_report

    if out.is_dir():
        return publish_report(storage, [], name, folder=out)
    files = [out] + ([Path(pdf)] if isinstance(pdf, str | Path) and Path(pdf).is_file() else [])
    return publish_report(storage, files, name)


def _write_report(
    model_dir: Path,
    out: Path,
    *,
    pdf: str | Path | bool | None,
    plan: Mapping[str, Any] | str | Path | None,
    attribution: str | Path | None,
    drift: Mapping[str, Any] | str | Path | None,
) -> Path:
    result = load_model(model_dir)
    summary_file = model_dir / "summary.json"
    summary = read_json_object(summary_file, "summary") if summary_file.is_file() else None
    plan_doc = read_json_object(plan, "plan") if isinstance(plan, str | Path) else plan
    drift_doc = read_json_object(drift, "drift") if isinstance(drift, str | Path) else drift
    folder = out.suffix.lower() not in {".html", ".htm"}
    request = ReportRequest(
        pdf=bool(pdf),
        plan=dict(plan_doc) if plan_doc else None,
        attribution=str(attribution) if attribution is not None else None,
        drift=dict(drift_doc) if drift_doc else None,
    )
    report = render_model_dir(
        model_dir,
        request,
        result=result,
        plan_file=str(plan) if isinstance(plan, str | Path) else "plan.json",
    )
    if not folder:
        atomic_write_text(out, report.html)
        if isinstance(pdf, str | Path) and report.pdf is not None:
            atomic_write_bytes(pdf, report.pdf)
        return out
    files: dict[str, bytes] = {"report.html": report.html.encode("utf-8")}
    if report.pdf is not None:
        files["report.pdf"] = report.pdf
    for name, table in (report.tables or {}).items():
        if name != "decomposition":
            files[f"{name}.csv"] = csv_text(table).encode("utf-8")
    if report.tables:
        files["tables.xlsx"] = xlsx_bytes(report.tables)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest = {
        "schema_version": 1,
        "report_hash": hashlib.sha256(
            json.dumps(digests, sort_keys=True).encode("utf-8")
        ).hexdigest(),
        "files": digests,
        "kpi": (summary or result.summary()).get("kpi"),
        "executive_summary": report.summary,
    }
    with atomic_dir(out) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / "report.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n"
        )
    if isinstance(pdf, str | Path) and report.pdf is not None:
        atomic_write_bytes(pdf, report.pdf)
    return out
