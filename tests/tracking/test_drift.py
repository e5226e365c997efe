"""Drift: a synthetic break is detected, stationary continuations raise no alarm.

Stationary continuations are drawn from the same distribution as the reference
(iid spend, control and KPI noise around fixed levels). The synthetic generator's
own series are not stationary (trend, seasonal flighting, a drifting price index),
so they are not used for the no-false-alarm check.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from mediamix.data.dataset import Dataset
from mediamix.tracking.drift import Thresholds, check_drift

REF, NEW = 104, 13


def _data(rng: np.random.Generator, weeks: int, start: str, *, tv=1.0, shock=0.0) -> Dataset:
    dates = np.arange(np.datetime64(start), np.datetime64(start) + 7 * weeks, 7).astype(
        "datetime64[D]"
    )
    spend = np.stack(
        [
            rng.lognormal(np.log(5000), 0.4, weeks) * tv,
            rng.lognormal(np.log(3000), 0.3, weeks),
            rng.lognormal(np.log(1500), 0.5, weeks),
        ],
        axis=1,
    )
    price = rng.normal(100, 2, weeks) + shock
    kpi = 50000 + 3 * spend[:, 0] ** 0.8 + 4 * spend[:, 1] ** 0.8 - 300 * (price - 100)
    kpi = kpi + rng.normal(0, 2000, weeks)
    return Dataset(
        dates=dates,
        geos=("national",),
        channels=("tv", "search", "social"),
        kpi=kpi[None, :],
        spend=spend[None, :, :],
        kpi_name="revenue",
        controls=price[None, :, None],
        control_names=("price_index",),
    )


def _pair(seed: int, **kw):
    rng = np.random.default_rng(seed)
    return _data(rng, REF, "2022-01-03"), _data(rng, NEW, "2024-01-01", **kw)


def test_no_false_alarm_on_twenty_stationary_continuations():
    alarms = [check_drift(*_pair(seed), Thresholds()).reasons for seed in range(20)]
    assert [a for a in alarms if a] == []


@pytest.mark.parametrize("seed", range(5))
def test_tripled_spend_and_control_shock_are_detected(seed):
    report = check_drift(*_pair(seed, tv=3.0), Thresholds())
    assert report.retrain
    assert report.columns["tv spend"]["drift"]
    assert not report.columns["search spend"]["drift"]
    report = check_drift(*_pair(seed, shock=10.0), Thresholds())
    assert report.retrain
    assert report.columns["price_index"]["drift"]


def test_cli_exit_3_when_retraining_is_due(run_cli, tmp_path, synth_spec, tracked_fit):
    # new weeks after the model's window: unchanged spend levels, then tripled TV
    spec = yaml.safe_load(synth_spec.read_text())
    frame = pd.read_csv(synth_spec.parent / spec["data"])
    last = pd.Timestamp(frame["date"].iloc[-1])
    new = frame.iloc[-13:].copy()
    new["date"] = [(last + pd.Timedelta(weeks=i + 1)).strftime("%Y-%m-%d") for i in range(13)]
    tv = next(c for c in frame.columns if c.endswith("_spend"))
    for name, factor in (("same", 1.0), ("tripled", 3.0)):
        part = new.copy()
        part[tv] = part[tv] * factor
        part.to_csv(tmp_path / f"{name}.csv", index=False)
        spec["data"] = f"{name}.csv"
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "thresholds.yaml").write_text("psi: 0.25\nks_pvalue: 0.01\nerror_ratio: 100\n")
    args = ["--model", tracked_fit.out, "--thresholds", tmp_path / "thresholds.yaml"]
    done = run_cli(
        ["drift", "check", *args, "--data", tmp_path / "tripled.yaml", "--out", tmp_path / "r1"]
    )
    assert done.code == 3, done.err
    report = json.loads((tmp_path / "r1" / "drift.json").read_text())
    assert report["retrain"]
    assert report["model"]["nrmse"] >= 0
    assert len(report["model"]["weekly_ape"]) == 13
    assert "Retraining is due" in (tmp_path / "r1" / "drift.html").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("psi: 0.25\nunknown_key: 1\n")
    done = run_cli(
        [
            "drift",
            "check",
            "--model",
            tracked_fit.out,
            "--thresholds",
            bad,
            "--data",
            tmp_path / "same.yaml",
            "--out",
            tmp_path / "r2",
        ]
    )
    assert done.code == 2
    assert "unknown_key" in done.err
    assert not (tmp_path / "r2").exists()
