"""The quickstart notebook runs from a clone: every cell executes without error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jupytext
    from nbclient import NotebookClient

    # a kernel spec naming this interpreter, so the notebook runs in the same
    # environment as the tests, whatever kernels the machine has installed
    spec = tmp_path / "kernels" / "mediamix-tests"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "mediamix tests",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = jupytext.read(DOCS / "quickstart.py")
    client = NotebookClient(
        notebook,
        kernel_name="mediamix-tests",
        timeout=600,
        resources={"metadata": {"path": str(DOCS)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when one fails

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors
    images = [o for cell in code for o in cell.outputs if "image/png" in o.get("data", {})]
    # decomposition, contributions, ROI, curves, budget shift, curves with the plan
    assert len(images) == 6
    last = code[-1].outputs[0]["text"]
    assert "outputs in" in last
