"""Use case: write a synthetic dataset, its spec and its truth."""

from __future__ import annotations

from pathlib import Path

import yaml

from mediamix.data.synthetic import SynthConfig, SynthResult, synthesize
from mediamix.io.atomic import atomic_dir

__all__ = ["write_synth"]


def write_synth(out: str | Path, config: SynthConfig) -> tuple[Path, SynthResult]:
    """Write ``synth.csv``, ``spec.yaml`` and ``truth.json`` into ``out`` atomically.

    Returns the spec path and the generated result.
    """
    import json

    out = Path(out)
    result = synthesize(config)
    with atomic_dir(out) as tmp:
        result.frame.to_csv(tmp / "synth.csv", index=False)
        header = (
            f"# mediamix synthetic data, seed {config.seed}: {config.weeks} weeks, "
            f"{config.channels} channels, {config.geos} geo(s). Truth in truth.json.\n"
        )
        (tmp / "spec.yaml").write_text(header + yaml.safe_dump(result.spec, sort_keys=False))
        (tmp / "truth.json").write_text(json.dumps(result.truth, indent=2) + "\n")
    return out / "spec.yaml", result
