"""The environment ``make install`` builds is exactly the one pinned in requirements.lock."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def test_lock_pins_every_requirement_with_hashes():
    pins = locked_pins()
    assert len(pins) > 100
    text = LOCK.read_text(encoding="utf-8")
    assert text.count("==") >= len(pins)
    # every pinned requirement carries at least one hash (hash-checked installs)
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [b.split()[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]
    assert not unhashed, unhashed
    for core in ("numpy", "pandas", "scipy", "pydantic", "uv"):
        assert core in pins


@pytest.mark.skipif(
    not (Path(sys.prefix) / ".installed").is_file(),
    reason="this environment was not built by `make install` from requirements.lock",
)
def test_installed_versions_equal_the_lock():
    pins = locked_pins()
    installed = {
        canonical(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if d.metadata["Name"]
    }
    wrong = {n: (installed.get(n), v) for n, v in pins.items() if installed.get(n) != v}
    assert not wrong, f"installed versions differ from the lock (installed, locked): {wrong}"
    extra = set(installed) - set(pins) - {"mediamix", "pip", "setuptools", "wheel"}
    assert not extra, f"installed but not in the lock: {sorted(extra)}"
