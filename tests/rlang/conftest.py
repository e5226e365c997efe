"""Helpers for the R tests: run Python with R hidden from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def run_without_r(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` with no R on PATH and no R_HOME (R stays installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("R_")}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv's bin: python, no R
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def no_r() -> object:
    return run_without_r
