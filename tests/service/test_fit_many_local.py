"""mediamix fit-many on the local pool (no Spark): summaries, fit folders, bad options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from _many_data import many_groups


def test_fit_many_cli_local_pool(run_cli: Any, tmp_path: Path) -> None:
    _, spec, _ = many_groups(tmp_path / "in", brands=1, markets=2)
    out = tmp_path / "out"
    args = ["fit-many", spec, "--out", out, "--group-by", "brand", "--group-by", "market"]
    run = run_cli([*args, "--backend", "local", "--workers", "1", "--candidates", "40"])
    assert run.code == 0, run.err
    assert "fitted 2 groups on local" in run.out
    summaries = pd.read_csv(out / "summaries.csv")
    assert summaries["path"].tolist() == ["brand=b0/market=m0", "brand=b0/market=m1"]
    for path in summaries["path"]:
        summary = json.loads((out / path / "summary.json").read_text())
        assert summary["n_periods"] == 52
        assert (out / path / "model" / "manifest.json").is_file()

    bad = run_cli([*args[:4], "--group-by", "region", "--backend", "local", "--out", out / "x"])
    assert bad.code == 2
    assert "column 'region'" in bad.err
    assert not (out / "x").exists()
    wrong = run_cli([*args, "--backend", "cluster"])
    assert wrong.code == 2
    assert "--backend" in wrong.err
