"""The promotion rule on synthetic data with known truth.

Every model is fitted on a window ending at the same week; the 13 weeks after it
are the holdout none of them saw. A challenger with the wrong adstock on half the
data is refused; one fitted on all the data with the right spec is promoted. Both
decisions, with their figures, are recorded on the versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mediamix.data.synthetic import SynthConfig
from mediamix.errors import InputError
from mediamix.service.fit import fit
from mediamix.service.registry import promote_model, register_model
from mediamix.tracking.config import TrackingConfig

HOLDOUT = 13


def _window(source: Path, rows: slice, name: str, adstock: dict | None = None) -> Path:
    spec = yaml.safe_load(source.read_text())
    frame = pd.read_csv(source.parent / spec["data"])
    folder = source.parent / name
    folder.mkdir()
    frame.iloc[rows].to_csv(folder / "data.csv", index=False)
    spec["data"] = "data.csv"
    if adstock is not None:
        for channel in spec["channels"].values():
            channel["adstock"] = dict(adstock)
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec))
    return folder / "spec.yaml"


def _roi_error(summary: dict, truth: dict) -> float:
    return float(
        np.median(
            [
                abs(c["roi"] - truth["channels"][n]["roi"]) / truth["channels"][n]["roi"]
                for n, c in summary["channels"].items()
            ]
        )
    )


@pytest.mark.slow
def test_worse_challenger_refused_better_promoted(tmp_path):
    from mediamix.service.synth import write_synth

    spec_path, synth = write_synth(tmp_path / "synth", SynthConfig(seed=21, weeks=130, channels=3))
    spec_path = Path(spec_path)
    n = 130 - HOLDOUT
    half = slice(n // 2, n)
    champion = _window(spec_path, half, "champion")
    worse = _window(spec_path, half, "worse", adstock={"type": "geometric", "alpha": 0.95})
    better = _window(spec_path, slice(0, n), "better")
    holdout = _window(spec_path, slice(n, 130), "holdout")
    config = TrackingConfig(home=tmp_path / "home")
    name = "brand"
    outcomes = {}
    for label, spec in (("champion", champion), ("worse", worse), ("better", better)):
        outcomes[label] = fit(spec, tmp_path / f"fit-{label}")
        register_model(tmp_path / f"fit-{label}", name, config)
    # the premise, judged by truth: the better model recovers ROI better than the worse one
    truth = synth.truth
    errors = {k: _roi_error(o.summary, truth) for k, o in outcomes.items()}
    assert errors["better"] < errors["worse"], errors

    first = promote_model(name, 1, "champion", config, decided_by="tester", holdout=holdout)
    assert first["accepted"]
    assert first["champion_version"] is None

    with pytest.raises(InputError, match="worse out of sample"):
        promote_model(name, 2, "champion", config, decided_by="tester", holdout=holdout)
    promoted = promote_model(
        name,
        3,
        "champion",
        config,
        decided_by="tester",
        holdout=holdout,
        reason="refit on the whole history",
    )
    assert promoted["accepted"], promoted["reasons"]
    figures = promoted["figures"]["holdout"]
    assert figures["source"] == "new weeks"
    assert figures["periods"] == HOLDOUT
    assert figures["candidate_nrmse"] <= figures["champion_nrmse"] * 1.05

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=config.uri, registry_uri=config.uri)
    refused = json.loads(client.get_model_version(name, "2").tags["mediamix.promotion.refused"])
    assert not refused["accepted"]
    assert refused["decided_by"] == "tester"
    assert (
        refused["figures"]["holdout"]["candidate_nrmse"]
        > refused["figures"]["holdout"]["champion_nrmse"] * 1.05
    )
    accepted = json.loads(client.get_model_version(name, "3").tags["mediamix.promotion.champion"])
    assert accepted["accepted"]
    assert accepted["reason_given"] == "refit on the whole history"
    assert str(client.get_model_version_by_alias(name, "champion").version) == "3"

    # an override is possible, and recorded as one
    forced = promote_model(
        name, 2, "champion", config, decided_by="lead", holdout=holdout, force=True
    )
    assert forced["override"]
    assert not forced["accepted"]
    tag = json.loads(client.get_model_version(name, "2").tags["mediamix.promotion.champion"])
    assert tag["override"]
    assert tag["decided_by"] == "lead"

    # every decision is a line of the service's hash-chained audit log
    from mediamix.state.audit import service_audit_log, verify

    audit = service_audit_log(config.home)
    assert verify(audit.path).ok
    lines = [json.loads(x) for x in audit.path.read_text().splitlines()]
    assert [(x["action"], x["object"], x["outcome"]) for x in lines] == [
        ("model.promote", "models:/brand/1@champion", "promoted (decided by tester)"),
        ("model.promote", "models:/brand/2@champion", "refused (decided by tester)"),
        ("model.promote", "models:/brand/3@champion", "promoted (decided by tester)"),
        ("model.promote", "models:/brand/2@champion", "override of a refusal (decided by lead)"),
    ]
