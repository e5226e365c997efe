"""The command-line contract is unchanged: exit codes, stderr and every file written.

Runs the cheap cases of :mod:`contract_cases` (everything but the Bayesian fit,
whose summary records its run time) and compares each record byte for byte with
``golden/<case>.txt``. After a deliberate change of an output, re-record with
``python tests/cli/contract_cases.py tests/cli/golden`` and review the diff.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from contract_cases import CASES, record

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return record(tmp_path_factory.mktemp("contract") / "work", cheap_only=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", [c.name for c in CASES if c.cheap])
def test_cli_contract_is_unchanged(records: dict[str, str], name: str) -> None:
    expected = (GOLDEN / f"{name}.txt").read_text()
    got = records[name]
    if got != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), got.splitlines(keepends=True), "golden", "now"
            )
        )
        pytest.fail(f"{name} changed:\n{diff[:4000]}")
