"""The typed view of a fit's ``info`` document: what each engine writes reads back,
and missing or malformed entries read as None or empty instead of raising."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mediamix.models.info import Diagnostics, EngineInfo, RobynImport, RScriptRun


def test_empty_or_missing_info_reads_as_empty() -> None:
    for doc in (None, {}):
        info = EngineInfo.from_dict(doc)
        assert info == EngineInfo()
        assert (info.penalty, info.holdout_nrmse, info.robyn, info.r_script) == (
            None,
            None,
            None,
            None,
        )
        assert dict(info.settings) == {}


def test_ridge_facts() -> None:
    info = EngineInfo.from_dict(
        {
            "lambda": 0.25,
            "holdout_nrmse": 0.125,
            "search": {
                "optimizer": "random",
                "candidates": 400,
                "seed": 0,
                "val_share_bounds": [0.1, 0.2],  # not a scalar: not a setting
                "rate": None,
                "flag": True,
            },
        }
    )
    assert info.penalty == 0.25
    assert info.holdout_nrmse == 0.125
    assert dict(info.settings["search"]) == {
        "optimizer": "random",
        "candidates": 400,
        "seed": 0,
        "rate": None,
        "flag": True,
    }


@pytest.mark.parametrize("bad", ["0.5", None, float("nan"), float("inf"), True, [0.5], {}])
def test_malformed_numbers_read_as_none(bad: Any) -> None:
    info = EngineInfo.from_dict({"lambda": bad, "holdout_nrmse": bad})
    assert info.penalty is None
    assert info.holdout_nrmse is None


def test_malformed_blocks_read_as_empty() -> None:
    info = EngineInfo.from_dict(
        {"robyn": "junk", "r_script": [1, 2], "diagnostics": 3, "search": "junk"}
    )
    assert (info.robyn, info.r_script, info.diagnostics) == (None, None, None)
    assert dict(info.settings) == {}


def test_diagnostics_figures_keep_only_finite_numbers() -> None:
    diag = Diagnostics.from_dict(
        {
            "method": "nuts",
            "max_rhat": 1.02,
            "min_ess_bulk": 350.0,
            "min_ess_tail": float("nan"),
            "divergences": 4,
            "mean_tree_steps": 15.5,
            "ppc": {"coverage_90": 0.9},
            "warnings": ["a", "b"],
            "converged": True,
        }
    )
    assert (diag.method, diag.max_rhat, diag.min_ess_bulk, diag.divergences) == (
        "nuts",
        1.02,
        350.0,
        4,
    )
    assert diag.min_ess_tail is None
    assert diag.warnings == ("a", "b")
    assert dict(diag.figures) == {
        "max_rhat": 1.02,
        "min_ess_bulk": 350.0,
        "divergences": 4.0,
        "mean_tree_steps": 15.5,
    }


def test_diagnostics_malformed_entries() -> None:
    diag = Diagnostics.from_dict({"divergences": True, "warnings": 5, "max_rhat": "1.0"})
    assert (diag.divergences, diag.warnings, diag.max_rhat, dict(diag.figures)) == (
        None,
        (),
        None,
        {},
    )


def test_robyn_import() -> None:
    info = EngineInfo.from_dict(
        {
            "robyn": {
                "select_model": "1_23_4",
                "version": "3.11.1",
                "hyper_values": {"lambda": 1234.5, "tv_alphas": 2.0},
                "decompAgg": {"tv": 10.0, "search": None, "radio": "x"},
            }
        }
    )
    assert info.robyn == RobynImport(
        select_model="1_23_4", version="3.11.1", penalty=1234.5, decomp_agg={"tv": 10.0}
    )
    assert info.penalty is None  # Robyn's lambda is on glmnet's scale, not the ridge engine's


def test_robyn_import_without_lambda_or_decomposition() -> None:
    robyn = RobynImport.from_dict({"hyper_values": "junk", "decompAgg": [1.0], "version": 3})
    assert (robyn.penalty, dict(robyn.decomp_agg), robyn.version, robyn.select_model) == (
        None,
        {},
        None,
        None,
    )


def test_r_script_run() -> None:
    run = EngineInfo.from_dict(
        {"r_script": {"script": "/x/model.R", "sha256": "ab" * 32, "seconds": 1.5, "timeout": 60}}
    ).r_script
    assert run == RScriptRun(script="/x/model.R", sha256="ab" * 32, seconds=1.5)
    assert RScriptRun.from_dict({"seconds": -math.inf}).seconds is None


def test_a_ridge_fit_reads_back_from_its_result_and_summary(small_ridge_fit: Any) -> None:
    """The typed view reads the same facts from the result and from summary.json."""
    ridge_fit = small_ridge_fit
    from_result = ridge_fit.engine_info
    from_summary = EngineInfo.from_dict(ridge_fit.summary()["info"])
    assert from_result.penalty == ridge_fit.info["lambda"] > 0
    assert from_result.holdout_nrmse == ridge_fit.info["holdout_nrmse"]
    assert from_result.settings["search"]["candidates"] == ridge_fit.info["search"]["candidates"]
    assert (from_summary.penalty, from_summary.holdout_nrmse, from_summary.settings) == (
        from_result.penalty,
        from_result.holdout_nrmse,
        from_result.settings,
    )
