"""The executive report: page 1 recomputed from summary.json and plan.json, the same
bytes for the same inputs, both ROI bases labelled, HTML offline and accessible, the
PDF's pages rendered to PNG."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mediamix.reporting.story import LOW_VARIATION, WIDE_INTERVAL, money


@pytest.fixture(scope="module")
def risk_plan(fitted: Any) -> dict[str, Any]:
    """A plan with a risk check against the current mix.

    Planned on the fitted curves with per-draw coefficient multipliers (a model
    with draws), which keeps the risk check to a second; the report still shows
    the fit's own planning basis beside the model as fitted.
    """
    import mediamix
    from mediamix.models.response import FittedResponse

    result = fitted.result
    rng = np.random.default_rng(0)
    scale = rng.lognormal(0.0, 0.25, size=(60, len(result.channel_names)))
    model = FittedResponse.from_parts(result.channels, result.data.spend[0], draw_scale=scale)
    budget = float(model.current.sum())
    return mediamix.optimize(model, budget=budget).to_dict()


@pytest.fixture(scope="module")
def report_dir(fitted: Any, risk_plan: dict[str, Any], tmp_path_factory: Any) -> Path:
    from mediamix.service.report import write_report

    root = tmp_path_factory.mktemp("report")
    (root / "plan.json").write_text(json.dumps(risk_plan))
    return write_report(fitted.out, root / "out", pdf=True, plan=root / "plan.json")


def _page_one(html: str) -> str:
    first = html.split('<section class="page">', 2)[1]
    return re.sub(r"<[^>]+>", " ", first.split("</section>", 1)[0])


def _expected_numbers(
    summary: dict[str, Any], plan: dict[str, Any], cv: dict[str, float]
) -> set[str]:
    """Every figure page 1 may quote, recomputed from the documents, formatted as written."""
    channels = summary["channels"]
    media = sum(c["contribution_share"] for c in channels.values())
    out = {f"{media:.1%}", f"{1 - media:.1%}", summary["start"], summary["end"]}
    for c in channels.values():
        out |= {money(c["contribution"]), f"{c['contribution_share']:.1%}", f"{c['roi']:.2f}"}
        if c.get("roi_interval"):
            lo, hi = c["roi_interval"]
            out |= {f"{lo:.2f}-{hi:.2f}"}
    baseline = plan["risk"]["baseline"]
    for name, p in plan["channels"].items():
        out.add(f"{p['spend'] / baseline[name] - 1:+.0%}")
    out |= {
        money(sum(baseline.values())),
        money(sum(p["spend"] for p in plan["channels"].values())),
    }
    rec = plan["risk"]["recommended"]
    out |= {
        f"{rec['change_q50']:+.1%}",
        f"{rec['change_q05']:+.1%}",
        f"{rec['change_q95']:+.1%}",
        f"{rec['probability_better']:.0%}",
        str(rec["n_draws"]),
        money(plan["total_response"]),
    }
    best = plan["risk"].get("optimized") or {}
    if plan["risk"].get("recommendation") == "current" and best:
        out |= {
            f"{best['change_q50']:+.1%}",
            f"{best['change_q05']:+.1%}",
            f"{best['change_q95']:+.1%}",
            f"{best['probability_better']:.0%}",
            str(best["n_draws"]),
        }
    if plan.get("response_interval"):
        lo, hi = plan["response_interval"]
        out.add(f"{money(lo)}-{money(hi)}")
    out |= {f"{v:.0%}" for v in cv.values()}
    return out


def test_every_figure_on_page_one_is_recomputed(
    fitted: Any, risk_plan: dict[str, Any], report_dir: Path
) -> None:
    summary = json.loads((Path(fitted.out) / "summary.json").read_text())
    spend = fitted.result.data.spend.sum(axis=0)
    cv = dict(zip(fitted.result.channel_names, spend.std(0) / spend.mean(0), strict=True))
    text = _page_one((report_dir / "report.html").read_text())
    expected = _expected_numbers(summary, risk_plan, cv)
    # every number-like token on page 1: dates, percentages, amounts, ROIs, ranges
    tokens = re.findall(
        r"\d{4}-\d{2}-\d{2}|[+-]?\d[\d.,]*%|\d[\d.]*[kMB]-\d[\d.]*[kMB]|\d+\.\d+-\d+\.\d+"
        r"|\d[\d.]*[kMB]|\d+\.\d{2}|\b\d+\b",
        text,
    )
    assert tokens, "page 1 quotes no figure"
    labels = {"90%", "1"}  # the interval level and break-even, not figures
    unexplained = [t for t in tokens if t not in expected and t not in labels]
    assert not unexplained, f"figures on page 1 not recomputed from the documents: {unexplained}"

    facts = json.loads((report_dir / "report.json").read_text())["executive_summary"]["facts"]
    channels = summary["channels"]
    assert facts["media_share"] == pytest.approx(
        sum(c["contribution_share"] for c in channels.values())
    )
    top = sorted(channels, key=lambda c: -channels[c]["contribution"])[:3]
    assert facts["top_channels"] == top
    for name, c in channels.items():
        lo, hi = c["roi_interval"]
        verdict = "pays back" if lo >= 1 else "does not pay back" if hi < 1 else "undecided"
        assert facts["payback"][name] == verdict
    wide = [
        n
        for n, c in channels.items()
        if c["roi_interval"][1] - c["roi_interval"][0] > WIDE_INTERVAL * abs(c["roi"])
    ]
    assert facts["wide_intervals"] == wide
    assert facts["low_variation"] == sorted(n for n, v in cv.items() if v < LOW_VARIATION)
    rec = risk_plan["risk"]["recommended"]
    assert facts["probability_better"] == rec["probability_better"]
    assert facts["change_median"] == rec["change_q50"]
    for name, p in risk_plan["channels"].items():
        base = risk_plan["risk"]["baseline"][name]
        assert facts["spend_change"][name] == pytest.approx(p["spend"] / base - 1)


def test_roi_table_shows_the_plan_basis_beside_the_fit(fitted: Any, report_dir: Path) -> None:
    from mediamix.models.response import FittedResponse

    roi = pd.read_csv(report_dir / "roi.csv")
    model = FittedResponse(fitted.result)
    bases = set(roi["basis"])
    if model.n_draws == 0:
        assert bases == {"model as fitted"}
        return
    assert bases == {"model as fitted", "plan basis"}
    plan_rows = roi[roi["basis"] == "plan basis"].set_index("channel")
    expected = model.channel_response(model.current) / model.current
    for i, name in enumerate(model.channels):
        assert plan_rows.loc[name, "roi"] == pytest.approx(expected[i], rel=1e-9)
        assert plan_rows.loc[name, "roi_low"] <= plan_rows.loc[name, "roi_high"]
    html = (report_dir / "report.html").read_text()
    assert "plan basis" in html
    assert "model as fitted" in html


def test_html_is_offline_accessible_and_has_every_section(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text()
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    svgs = re.findall(r"<svg [^>]*>", html)
    assert len(svgs) >= 8
    assert all('role="img"' in s and "aria-label=" in s for s in svgs)
    assert html.count("<figcaption>") == len(svgs)
    for title in (
        "Executive summary",
        "What drove the KPI: decomposition",
        "Return on investment by channel",
        "Response curves",
        "Budget shift: current vs recommended",
        "Efficient frontier",
        "Fit diagnostics",
        "Data quality and drift",
        "Model card",
    ):
        assert f">{title}<" in html
    assert "break-before:page" in html
    # Okabe-Ito colours only for channels (the palette of reporting.plots)
    assert "#0072b2" in html.lower()


def test_same_inputs_give_the_same_bytes(
    fitted: Any, risk_plan: dict[str, Any], report_dir: Path, tmp_path: Path
) -> None:
    from mediamix.service.report import write_report

    again = write_report(fitted.out, tmp_path / "again", pdf=True, plan=risk_plan)
    for name in ("report.html", "report.pdf", "report.json", "roi.csv", "plan.csv", "tables.xlsx"):
        assert (again / name).read_bytes() == (report_dir / name).read_bytes(), name


def test_pdf_pages_render(report_dir: Path, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm"), "poppler-utils (scripts/system-packages.txt) is missing"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(report_dir / "report.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 9  # one page or more per section
    from matplotlib.image import imread

    first = imread(pages[0])
    assert first.shape[0] > first.shape[1]  # portrait
    assert float(first[..., :3].mean()) < 0.999  # not blank


def test_plan_from_another_model_is_refused(fitted: Any, tmp_path: Path) -> None:
    from mediamix.errors import InputError
    from mediamix.service.report import write_report

    plan = {"total_response": 1.0, "channels": {"radio": {"spend": 1.0}}}
    with pytest.raises(InputError, match="different channels"):
        write_report(fitted.out, tmp_path / "out", plan=plan)
    assert not (tmp_path / "out").exists()


def test_attribution_is_compared_with_the_mmm(
    fitted: Any, risk_plan: dict[str, Any], tmp_path: Path
) -> None:
    from mediamix.service.report import report_inputs

    names = fitted.result.channel_names
    folder = tmp_path / "attribution"
    folder.mkdir()
    pd.DataFrame(
        {
            "channel": names,
            "markov_conversions": [3.0] * len(names),
            "linear_conversions": [1.0, 2.0, 1.0][: len(names)],
        }
    ).to_csv(folder / "attribution.csv", index=False)
    inputs = report_inputs(fitted.result, risk_plan, attribution=folder)
    table = inputs.attribution
    assert table is not None
    assert list(table.columns) == ["channel", "mmm", "markov", "linear"]
    assert table["markov"].sum() == pytest.approx(1.0)
    assert table["mmm"].sum() == pytest.approx(1.0)


def test_cli_writes_the_report_folder_and_refuses_a_foreign_plan(
    run_cli: Any, fitted: Any, risk_plan: dict[str, Any], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(risk_plan))
    out = tmp_path / "report"
    res = run_cli(["report", fitted.out, "--plan", plan, "--out", out])
    assert res.code == 0, res.err
    assert {p.name for p in out.iterdir()} == {
        "report.html",
        "report.json",
        "roi.csv",
        "plan.csv",
        "tables.xlsx",
    }
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"total_response": 1.0, "channels": {"radio": {"spend": 1.0}}}))
    res = run_cli(["report", "render", fitted.out, "--plan", foreign, "--out", tmp_path / "no"])
    assert res.code == 2
    assert "different channels" in res.err
    assert not (tmp_path / "no").exists()
    # a folder without its PDF cannot be sent
    config = tmp_path / "delivery.yaml"
    config.write_text("slack:\n  - {name: team, webhook_env: MEDIAMIX_TEST_HOOK}\n")
    res = run_cli(["report", "send", out, "--config", config])
    assert res.code == 2
    assert "report.pdf" in res.err


def test_a_kept_current_mix_quotes_the_optimized_plan_it_refused() -> None:
    from mediamix.reporting.story import executive_summary

    summary = {
        "kpi": "sales",
        "start": "2024-01-01",
        "end": "2024-12-30",
        "channels": {
            "tv": {"spend": 100.0, "contribution": 180.0, "contribution_share": 0.2, "roi": 1.8},
        },
    }
    same = {"probability_better": 0.0, "change_q05": 0.0, "change_q50": 0.0, "change_q95": 0.0}
    best = {"probability_better": 0.63, "change_q05": -0.012, "change_q50": 0.002}
    plan = {
        "total_response": 180.0,
        "channels": {"tv": {"spend": 100.0}},
        "risk": {
            "recommendation": "current",
            "level": 0.9,
            "baseline": {"tv": 100.0},
            "recommended": {**same, "n_draws": 100},
            "optimized": {**best, "change_q95": 0.015, "n_draws": 100},
        },
    }
    page = executive_summary(summary, plan)
    lines = " ".join(page.sections["What to do with the budget"])
    assert "beats the current mix in 0%" not in lines  # not the current mix against itself
    assert "the optimized plan beats it in only 63% of 100 model draws" in lines
    assert "-1.2% to +1.5%" in lines
    assert "short of the 90% the rule asks" in lines
    assert page.facts["optimized_probability_better"] == 0.63
    assert page.facts["probability_better"] == 0.0
