"""Typed requests: JSON bodies map onto them; errors name fields; the CLI names flags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mediamix.cli.flags import FLAGS, as_flags
from mediamix.errors import InputError, Problem
from mediamix.models.info import EngineInfo
from mediamix.optimization.constraints import Constraints, constraints_from_dict
from mediamix.service.requests import (
    AttributeRequest,
    Engine,
    FitRequest,
    OptimizeRequest,
    SamplerMethod,
    SynthRequest,
    parse_request,
)


def _columns(kind, doc) -> list[str | None]:
    with pytest.raises(InputError) as err:
        parse_request(kind, doc)
    return [p.column for p in err.value.problems]


def test_fit_request_from_a_json_body() -> None:
    body = '{"engine": "bayes", "seed": 3, "sampler": {"method": "map", "draws": 200}}'
    req = FitRequest.model_validate_json(body)
    assert req.engine is Engine.BAYES
    assert req.sampler is not None
    assert req.sampler.method is SamplerMethod.MAP
    assert req.sampler.engine_options() == {"method": "map", "draws": 200}


@pytest.mark.parametrize(
    ("doc", "columns"),
    [
        ({"engine": "glm"}, ["engine"]),
        (
            {"engine": "bayes", "sampler": {"chains": 0, "warmup": -1}},
            ["sampler.chains", "sampler.warmup"],
        ),
        ({"engine": "bayes", "sampler": {"method": "hmc"}}, ["sampler.method"]),
        ({"engine": "ridge", "sampler": {"chains": 2}}, ["engine"]),
        ({"engine": "bayes", "ridge": {"candidates": 100}}, ["engine"]),
        ({"ridge": {"candidates": 1}}, ["ridge.candidates"]),
        ({"enigne": "ridge"}, ["enigne"]),
    ],
)
def test_fit_request_errors_name_fields(doc, columns) -> None:
    assert _columns(FitRequest, doc) == columns


def test_ridge_request_with_only_the_cache_is_fine() -> None:
    # the CLI always passes the compile cache for bayes; for ridge it sends no sampler
    req = parse_request(FitRequest, {"engine": "ridge", "sampler": {}})
    assert req.engine is Engine.RIDGE


def test_optimize_request_carries_the_constraints_document() -> None:
    body = {
        "budget": 1000,
        "objective": "roi",
        "constraints": {
            "channels": {"tv": {"min": 10}},
            "groups": [{"channels": ["tv"], "max": 500}],
        },
    }
    req = OptimizeRequest.model_validate_json(json.dumps(body))
    assert isinstance(req.constraints, Constraints)
    assert req.constraints.groups[0].max == 500.0
    assert req.objective.value == "roi"


@pytest.mark.parametrize(
    ("doc", "columns"),
    [
        ({"budget": 0}, ["budget"]),
        (
            {"budget": 1, "objective": "profit", "risk_level": 0.2, "periods": 0},
            ["objective", "periods", "risk_level"],
        ),
        (
            {"budget": 1, "constraints": {"channels": {"tv": {"minimum": 1}}}},
            ["constraints.channels.tv.minimum"],
        ),
    ],
)
def test_optimize_request_errors_name_fields(doc, columns) -> None:
    assert _columns(OptimizeRequest, doc) == columns


def test_attribute_request_reports_every_bad_field() -> None:
    doc = {"method": "magic", "order": 0, "half_life": -1.0, "lookback_days": 0}
    assert _columns(AttributeRequest, doc) == ["method", "order", "half_life", "lookback_days"]


def test_every_request_field_a_flag_sets_is_in_the_flag_table() -> None:
    fields = {
        f"sampler.{k}"
        for k in FitRequest.model_fields["sampler"].annotation.__args__[0].model_fields
        if k != "compile_cache"
    }
    fields |= {"engine", "seed"}
    fields |= {
        k
        for k in OptimizeRequest.model_fields
        if not k.endswith("_file") and k != "count_carryover_out"
    }
    fields |= set(AttributeRequest.model_fields)
    fields |= set(SynthRequest.model_fields)
    assert fields <= set(FLAGS)


def test_flags_replace_fields_only_for_request_problems() -> None:
    assert as_flags(Problem("bad", column="sampler.chains")).column == "--chains"
    assert as_flags(Problem("bad", file="spec.yaml", column="engine")).column == "engine"
    assert as_flags(Problem("bad", column="unmapped")).column == "unmapped"


def test_cli_names_the_flag_of_a_bad_field(run_cli, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("data: x.csv\ndate: d\nkpi: y\nchannels:\n  tv: {spend: tv}\n")
    res = run_cli(["fit", spec, "--out", tmp_path / "out", "--engine", "bayes", "--chains", "0"])
    assert res.code == 2
    assert "column '--chains'" in res.err
    assert not (tmp_path / "out").exists()


def test_weeks_block_is_part_of_the_constraints_model() -> None:
    cons = constraints_from_dict({"weeks": {"tv": {"min": 1, "max": [2, 3, 4]}}})
    lower, upper = cons.weekly_bounds(["tv", "radio"], 3)
    np.testing.assert_array_equal(lower, [[1, 0], [1, 0], [1, 0]])
    np.testing.assert_array_equal(upper, [[2, np.inf], [3, np.inf], [4, np.inf]])
    assert cons.single_period_keys() == []


@pytest.mark.parametrize(
    ("weeks", "column"),
    [
        ({"nope": {"max": 1}}, "weeks.nope"),
        ({"tv": {"max": [1, 2]}}, "weeks.tv.max"),
        ({"tv": {"min": 5, "max": 1}}, "weeks.tv"),
    ],
)
def test_weekly_bounds_errors_name_the_key(weeks, column) -> None:
    cons = constraints_from_dict({"weeks": weeks})
    with pytest.raises(InputError) as err:
        cons.weekly_bounds(["tv"], 3, file="c.yaml")
    assert (err.value.problems[0].file, err.value.problems[0].column) == ("c.yaml", column)


def test_negative_week_bound_is_refused_with_its_path() -> None:
    with pytest.raises(InputError) as err:
        constraints_from_dict({"weeks": {"tv": {"max": [1, -2]}}})
    assert err.value.problems[0].column == "weeks.tv.max"


def test_single_period_plans_refuse_per_week_bounds() -> None:
    from mediamix.optimization.response import curves_from_dict
    from mediamix.service.optimize import optimize

    curves = curves_from_dict(
        {
            "channels": {
                "tv": {
                    "beta": 1.0,
                    "saturation": {"type": "hill", "half_saturation": 1.0, "slope": 1.0},
                }
            }
        }
    )
    with pytest.raises(InputError) as err:
        optimize(
            {"budget": 1.0, "constraints": {"weeks": {"tv": {"max": 1}}}}, response_model=curves
        )
    assert err.value.problems[0].column == "weeks"


def test_engine_info_keeps_what_it_can_read() -> None:
    assert EngineInfo.from_dict(None) == EngineInfo()
    info = EngineInfo.from_dict(
        {
            "pareto": [{"roi": {"tv": 1.0}}, "junk"],
            "ensemble": {"members": "junk"},
            "diagnostics": {"divergences": 3, "max_rhat": float("nan")},
        }
    )
    assert info.pareto == ()
    assert info.ensemble == ()
    assert info.diagnostics is not None
    assert (info.diagnostics.divergences, info.diagnostics.max_rhat) == (3, None)
