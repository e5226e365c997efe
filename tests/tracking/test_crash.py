"""Crash and concurrency: a killed fit leaves a FAILED run; parallel registrations lose nothing."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediamix.tracking.config import TrackingConfig

MEDIAMIX = Path(sys.executable).parent / "mediamix"


def _statuses(db: Path) -> dict[str, str]:
    if not db.is_file():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
            return dict(con.execute("select run_uuid, status from runs"))
    except sqlite3.OperationalError:  # tables not created yet
        return {}


@pytest.mark.slow
def test_kill_9_during_a_tracked_fit_leaves_the_run_failed(synth_spec, tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "MEDIAMIX_HOME": str(home), "MEDIAMIX_TRACKING": "true"}
    env.pop("MEDIAMIX_TRACKING_URI", None)
    proc = subprocess.Popen(
        [str(MEDIAMIX), "fit", str(synth_spec), "--out", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = home / "mlflow" / "mlflow.db"
    deadline = time.time() + 300
    while "RUNNING" not in _statuses(db).values():
        assert proc.poll() is None, "the fit ended before its run was seen running"
        assert time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 120
    while "RUNNING" in _statuses(db).values():
        assert time.time() < deadline, _statuses(db)
        time.sleep(0.2)
    assert set(_statuses(db).values()) == {"FAILED"}
    assert not (tmp_path / "out").exists()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=TrackingConfig(home=home).uri)
    (run_id,) = _statuses(db)
    assert "ended before the run was complete" in client.get_run(run_id).data.tags["mediamix.error"]


class _DeadParent(io.StringIO):
    """The worker's answer stream once the fit process is gone."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_parent_killed_mid_command_still_leaves_the_run_failed(tmp_path):
    from mlflow.tracking import MlflowClient

    from mediamix.tracking.worker import serve

    uri = TrackingConfig(home=tmp_path / "home").uri
    commands = io.StringIO(
        json.dumps({"op": "start", "uri": uri, "experiment": "crash", "params": {"a": 1}})
        + "\n"
        + json.dumps({"op": "log", "metrics": {"r2": 0.5}})
        + "\n"
    )
    assert serve(commands, _DeadParent()) == 0
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("crash").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.metrics == {}  # the log command after the dead answer never ran
    assert "ended before the run was complete" in run.data.tags["mediamix.error"]


_REGISTER = """
import sys
from pathlib import Path
from mediamix.service.registry import register_model
from mediamix.tracking.config import TrackingConfig
config = TrackingConfig(home=Path(sys.argv[1]))
for _ in range(int(sys.argv[3])):
    print(register_model(sys.argv[2], "brand", config)["version"], flush=True)
"""


@pytest.mark.slow
def test_parallel_registrations_get_unique_contiguous_versions(tracked_fit, tmp_path):
    processes, each = 4, 3
    home = tmp_path / "home"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTER, str(home), str(tracked_fit.out), str(each)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    printed = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
        printed += [int(line) for line in out.split()]
    assert sorted(printed) == list(range(1, processes * each + 1))
    from mediamix.service.registry import list_models

    (model,) = list_models(TrackingConfig(home=home))
    assert [v["version"] for v in model["versions"]] == list(range(1, processes * each + 1))
    assert json.dumps(model)
