"""A table of many small MMM series (brand x market x KPI) for the many-models tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mediamix.data.synthetic import SynthConfig, synthesize


def many_groups(
    folder: Path, brands: int = 2, markets: int = 2, kpis: tuple[str, ...] = ("sales",)
) -> tuple[Path, Path, pd.DataFrame]:
    """Write ``many.csv`` (one synthetic 52-week series per group) and ``spec.yaml``."""
    frames = []
    spec: dict[str, Any] = {}
    seed = 0
    for b in range(brands):
        for m in range(markets):
            for k in kpis:
                synth = synthesize(
                    SynthConfig(seed=seed, weeks=52, channels=2, events=0, controls=0)
                )
                seed += 1
                frame = synth.frame.copy()
                frame.insert(0, "kpi", k)
                frame.insert(0, "market", f"m{m}")
                frame.insert(0, "brand", f"b{b}")
                frames.append(frame)
                spec = synth.spec
    table = pd.concat(frames, ignore_index=True)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "many.csv"
    table.to_csv(data, index=False)
    spec_path = folder / "spec.yaml"
    spec_path.write_text(yaml.safe_dump({**spec, "data": data.name}, sort_keys=False))
    return data, spec_path, table
