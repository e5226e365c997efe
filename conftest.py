"""Run every docstring example in ``src/`` as a doctest, alongside the tests.

``pytest --doctest-modules`` would also import ``tests/**/conftest.py`` as test
modules (they share one module name and collide), so the doctest collector is
attached to the files under ``src/`` only. ``pytest -q`` runs both (``testpaths``
in pyproject.toml); ``pytest src`` runs the doctests alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule

SRC = Path(__file__).parent / "src"

DOCTEST_EXCLUDED: frozenset[str] = frozenset()
"""Files under ``src/`` whose examples are not run yet, as paths relative to ``src/``.

Each entry is a known failure waiting for its module's owner; empty means every
docstring example runs.
"""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DoctestModule | None:
    """Collect the docstring examples of each module under ``src/``."""
    if file_path.suffix != ".py" or parent.config.option.doctestmodules:
        return None  # --doctest-modules given: pytest collects them itself
    try:
        relative = file_path.resolve().relative_to(SRC.resolve())
    except ValueError:
        return None
    if relative.name == "__main__.py" or relative.as_posix() in DOCTEST_EXCLUDED:
        return None
    if relative.parent.as_posix() == "mediamix/orchestration/dags":
        # DAG files import Airflow, which reads its configuration once, on first import:
        # they are Airflow's to load (tests/orchestration sets its home first), and they
        # hold no examples
        return None
    return DoctestModule.from_parent(parent, path=file_path)
