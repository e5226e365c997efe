"""Helpers for the R tests: what mediamix does when R is hidden from it.

One subprocess (R stays installed, but PATH has no R and R_HOME is unset) runs every
no-R check at once, so the CI budget pays for one Python start-up, not one per check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

_WITHOUT_R = r"""
import contextlib, io, json, sys
out = {}
import mediamix, mediamix.cli.app, mediamix.rlang.glmnet, mediamix.rlang.bridge
out["rpy2_loaded"] = "rpy2" in sys.modules
from mediamix.rlang.bridge import RMissingError, r_session, rscript_path
for key, call in (("r_session", lambda: r_session(["glmnet"], purpose="the test")),
                  ("rscript", lambda: rscript_path("the hook"))):
    try:
        call()
        out[key] = "no error"
    except RMissingError as exc:
        out[key] = str(exc)
from mediamix.cli.app import main
for key, args in json.loads(sys.argv[1]).items():
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code
    out[key] = {"code": code, "out": stdout.getvalue(), "err": stderr.getvalue()}
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def without_r(tmp_path_factory) -> dict[str, Any]:
    """Results of the no-R checks: imports, the bridge's errors and three CLI runs."""
    tmp = tmp_path_factory.mktemp("without-r")
    spec = REPO / "examples" / "robyn-simulated-weekly" / "spec.yaml"
    runs = {
        "help": ["--help"],
        "fit_r_glmnet": ["fit", str(spec), "--out", str(tmp / "fit"), "--engine", "r-glmnet"],
        "r_script": [
            "r-script",
            str(REPO / "examples" / "r-script" / "model.R"),
            str(spec),
            "--out",
            str(tmp / "script"),
        ],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("R_")}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv's bin: python, no R
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_R, json.dumps(runs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["written"] = sorted(p.name for p in tmp.iterdir())
    return report
