"""Shared test helpers: run the CLI in-process, locate the bundled datasets, a small fit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "datasets"


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[[Sequence[str]], CliRun]:
    """Run ``mediamix ARGS`` in-process; returns exit code, stdout and stderr."""
    from mediamix.cli import app as cli_app

    def run(args: Sequence[str]) -> CliRun:
        capsys.readouterr()
        # rich consoles are module globals: point them at the captured streams
        cli_app.out_console.file = None  # type: ignore[assignment]
        cli_app.err_console.file = None  # type: ignore[assignment]
        with pytest.raises(SystemExit) as exc:
            cli_app.main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exc.value.code if isinstance(exc.value.code, int) else 1
        return CliRun(code=code, out=captured.out, err=captured.err)

    return run


@pytest.fixture(autouse=True)
def _no_tracking_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fits in tests are not tracked unless a test turns tracking on itself.

    Tracking is on by default for users (``MEDIAMIX_TRACKING``); here it would
    write MLflow runs under the real ``MEDIAMIX_HOME`` for every CLI fit.
    """
    monkeypatch.setenv("MEDIAMIX_TRACKING", "false")


@pytest.fixture
def shared_datasets() -> Path:
    """The third-party datasets bundled in ``datasets/`` (each with SOURCE.md and LICENSE)."""
    if not DATASETS.is_dir():
        raise AssertionError(f"bundled datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MEDIAMIX_HOME, also set for CLI runs."""
    path = tmp_path / "home"
    monkeypatch.setenv("MEDIAMIX_HOME", str(path))
    return path


@pytest.fixture
def cli(run_cli: Callable[[Sequence[str]], object]) -> Callable[[Sequence[str]], object]:
    """The CLI runner under the short name the warehouse and ingest tests use."""
    return run_cli


@pytest.fixture(scope="session")
def refresh_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A ridge model folder fitted on 104 synthetic weeks, the full 117-week file and the
    13 new weeks alone (for the refresh tests)."""
    import pandas as pd
    import yaml

    from mediamix.data.spec import ModelSpec
    from mediamix.data.synthetic import SynthConfig
    from mediamix.data.validation import build_dataset
    from mediamix.models.ridge import RidgeOptions, fit_ridge
    from mediamix.service.fit import write_fit
    from mediamix.service.synth import write_synth

    root = tmp_path_factory.mktemp("refresh")
    spec_path, _ = write_synth(root / "synth", SynthConfig(seed=8, weeks=104 + 13, channels=2))
    frame = pd.read_csv(root / "synth" / "synth.csv", dtype=str)
    frame.iloc[:104].to_csv(root / "first.csv", index=False)
    frame.iloc[104:].to_csv(root / "new.csv", index=False)
    spec = yaml.safe_load(Path(spec_path).read_text())
    spec["data"] = str(root / "first.csv")
    model_spec = ModelSpec.from_mapping(spec)
    data, _ = build_dataset(pd.read_csv(root / "first.csv", dtype=str), model_spec, source="x")
    result = fit_ridge(data, model_spec, RidgeOptions(candidates=800, bootstrap=10, ensemble=0))
    write_fit(result, root / "model")
    return {
        "root": root,
        "model": root / "model",
        "full": root / "synth" / "synth.csv",
        "new": root / "new.csv",
    }


@pytest.fixture(scope="session")
def small_ridge_fit() -> Any:
    """A quick ridge fit on synthetic data (2 channels, 80 weeks, 400 candidates)."""
    from mediamix.data.spec import ModelSpec
    from mediamix.data.synthetic import SynthConfig, synthesize
    from mediamix.data.validation import build_dataset
    from mediamix.models.ridge import RidgeOptions, fit_ridge

    res = synthesize(SynthConfig(seed=3, weeks=80, channels=2))
    spec = ModelSpec.model_validate(res.spec)
    data, _ = build_dataset(res.frame, spec, source="synth.csv")
    return fit_ridge(data, spec, RidgeOptions(seed=0, candidates=400, bootstrap=0))
