"""A small fitted model and a plan with scenarios, shared by the reporting tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A ridge fit on two years of synthetic weekly data with three channels."""
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.fit import fit
    from mediamix.service.synth import write_synth

    root = tmp_path_factory.mktemp("reporting")
    spec, _ = write_synth(root / "data", SynthConfig(seed=5, weeks=104, channels=3))
    return fit(spec, root / "fit", {"seed": 0})


@pytest.fixture(scope="session")
def plan_doc(fitted: Any) -> dict[str, Any]:
    """The plan.json document for the current total budget, with the frontier.

    Planned on the recommended model alone (no ensemble, no draws): the charts only
    need a plan's numbers, and the ensemble's risk check would cost a minute here.
    """
    import mediamix
    from mediamix.models.response import FittedResponse

    budget = sum(c["spend"] for c in fitted.summary["channels"].values())
    model = FittedResponse.from_parts(fitted.result.channels, fitted.result.data.spend[0])
    plan = mediamix.optimize(model, budget=budget, frontier=True)
    return plan.to_dict()


@pytest.fixture
def fit_dir(fitted: Any) -> Path:
    return Path(fitted.out)
