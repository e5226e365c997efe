"""The README's CLI tour runs as written from a fresh clone.

The first ``sh`` block under "A tour of the CLI" is run line by line, in a scratch
folder that holds the repository's ``examples/`` and ``datasets/`` (as a clone's root
does), with ``MEDIAMIX_HOME`` pointing into the scratch folder. Every command must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def tour_commands() -> list[str]:
    """The commands of the README's tour block, comments and blank lines dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## A tour of the CLI", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block, "README has no sh block under 'A tour of the CLI'"
    commands = []
    for line in block.group(1).splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


def test_tour_block_is_found_and_uses_only_repository_files():
    commands = tour_commands()
    assert commands[0] == "mediamix --help"
    assert any(c.startswith("mediamix demo") for c in commands)
    for command in commands:
        for word in shlex.split(command):
            assert ".." not in Path(word).parts, f"tour reads outside the repository: {command}"


@pytest.mark.slow
def test_readme_tour_runs_as_written(tmp_path):
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("examples", "datasets"):
        (work / name).symlink_to(REPO / name)
    env = dict(os.environ)
    env["MEDIAMIX_HOME"] = str(tmp_path / "home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for command in tour_commands():
        done = subprocess.run(
            command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    for produced in ("fit/summary.json", "plan.json", "all.csv", "report.html", "mart"):
        assert (work / produced).exists(), produced
