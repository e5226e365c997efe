"""The API's in-memory model cache: loads once, reloads a replaced model, evicts, forgets."""

from __future__ import annotations

import os
from pathlib import Path

from mediamix.api.cache import ModelCache


def _model(root: Path, name: str) -> Path:
    folder = root / name
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "manifest.json").write_text("{}")
    return folder


def test_loads_once_reloads_when_replaced_evicts_and_forgets(tmp_path: Path) -> None:
    loads: list[str] = []
    timings: list[float] = []

    def load(folder: Path) -> str:
        loads.append(folder.name)
        return f"{folder.name}#{len(loads)}"

    cache = ModelCache(capacity=2, load=load, on_load=timings.append)
    a, b, c = (_model(tmp_path, n) for n in "abc")
    assert cache.get(a) == cache.get(a) == "a#1"
    manifest = a / "model" / "manifest.json"
    manifest.write_text('{"files": {}}')  # replaced model: new size and time
    os.utime(manifest, (1, 1))
    assert cache.get(a) == "a#2"
    cache.get(b)
    cache.get(c)  # evicts a, the least recently used
    assert cache.get(b) == "b#3"
    assert cache.get(a) == "a#5"
    cache.forget(a)
    assert cache.get(a) == "a#6"
    assert loads == ["a", "a", "b", "c", "a", "a"]
    assert len(timings) == len(loads)
