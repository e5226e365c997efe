"""Identification warnings: steady spend, collinear media, intervals wider than the ROI."""

from __future__ import annotations

import dataclasses

import numpy as np

from mediamix.models.identification import MAX_R2, identification_warnings
from mediamix.models.result import FitResult, example_result


def _with_spend(result: FitResult, spend: np.ndarray) -> FitResult:
    data = dataclasses.replace(result.data, spend=spend, kpi=np.asarray(result.data.kpi[0]))
    return dataclasses.replace(result, data=data)


def test_a_well_identified_model_has_no_warnings() -> None:
    result = example_result()
    assert identification_warnings(result) == []
    assert result.summary()["identification"] == []


def test_steady_spend_is_reported() -> None:
    result = example_result()
    spend = np.array(result.data.spend[0])
    rng = np.random.default_rng(0)
    spend[:, 1] = 60.0 * (1 + 0.02 * rng.standard_normal(len(spend)))
    found = [(w.channel, w.issue) for w in identification_warnings(_with_spend(result, spend))]
    assert ("search", "spend_variation") in found
    assert ("tv", "spend_variation") not in found


def test_collinear_channels_name_each_other() -> None:
    result = example_result()
    spend = np.array(result.data.spend[0])
    spend[:, 1] = 0.6 * spend[:, 0]  # search follows tv week by week
    result = dataclasses.replace(
        _with_spend(result, spend),
        channels={
            "tv": dataclasses.replace(
                result.channels["tv"], adstock={"type": "geometric", "alpha": 0.0}
            ),
            "search": result.channels["search"],
        },
    )
    warnings = [w for w in identification_warnings(result) if w.issue == "collinear"]
    assert {w.channel for w in warnings} == {"tv", "search"}
    by = {w.channel: w for w in warnings}
    assert by["tv"].value > MAX_R2
    assert by["tv"].partner is not None
    assert by["tv"].partner.startswith("search")
    doc = result.summary()["identification"]
    assert {"channel", "issue", "value", "threshold", "partner", "message"} <= set(doc[0])


def test_wide_interval_is_reported_against_the_roi() -> None:
    result = example_result()
    roi = result.summary()["channels"]["tv"]["roi"]
    narrow = dataclasses.replace(result, roi_interval={"tv": (0.5 * roi, 1.5 * roi)})
    assert identification_warnings(narrow) == []
    wide = dataclasses.replace(result, roi_interval={"tv": (0.0, 2.2 * roi)})
    (w,) = identification_warnings(wide)
    assert (w.channel, w.issue) == ("tv", "wide_interval")
    assert w.value > 1.0
