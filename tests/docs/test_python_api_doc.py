"""The Python examples of the README and docs/python-api.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


def _blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _paths_file(folder: Path) -> None:
    """The small aggregated-paths file the examples attribute."""
    pd.DataFrame(
        {
            "path": ["display > search", "search", "social > display", "social"],
            "total_conversions": [12, 30, 4, 2],
            "total_null": [140, 85, 60, 90],
        }
    ).to_csv(folder / "paths.csv", index=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "section"),
    [("README.md", "## From Python"), ("docs/python-api.md", None)],
)
def test_python_examples_run(
    page: str, section: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    text = (REPO / page).read_text(encoding="utf-8")
    if section is not None:
        text = text.split(section, 1)[1].split("\n## ", 1)[0]
    blocks = _blocks(text)
    assert blocks, f"no python example in {page}"
    monkeypatch.chdir(tmp_path)
    _paths_file(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:  # one session: later blocks use what earlier ones made
        exec(compile(block, f"{page} example", "exec"), namespace)
    assert "result" in namespace
    assert "plan" in namespace
