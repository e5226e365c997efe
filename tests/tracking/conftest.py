"""Fixtures of the tracking tests: a small synthetic dataset and a tracked fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediamix.data.synthetic import SynthConfig
from mediamix.service.synth import write_synth
from mediamix.tracking.config import TrackingConfig

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def synth_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    spec_path, _ = write_synth(out, SynthConfig(seed=5, weeks=80, channels=2))
    return Path(spec_path)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> TrackingConfig:
    return TrackingConfig(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def tracked_fit(
    synth_spec: Path, embedded: TrackingConfig, tmp_path_factory: pytest.TempPathFactory
):
    from mediamix.service.fit import fit

    out = tmp_path_factory.mktemp("fits") / "fit"
    return fit(synth_spec, out, tracking=embedded)
