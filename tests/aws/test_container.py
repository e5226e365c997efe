"""The image's entry points as processes: ``train`` with SageMaker's /opt/ml layout in a
temporary root, ``serve`` answering /ping and /invocations, ``health`` as the HEALTHCHECK."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import mediamix

ENTRY = [sys.executable, "-m", "mediamix.cli.container"]


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MEDIAMIX_SAGEMAKER_ROOT": str(root), "MEDIAMIX_HOME": str(root / "home")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/opt/ml after ``train``: the channel holds a spec and its data."""
    root = tmp_path_factory.mktemp("opt-ml")
    channel = root / "input" / "data" / "training"
    mediamix.synth(channel, seed=3, weeks=60, channels=2)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps({"engine": "ridge", "seed": "1", "candidates": "300", "bootstrap": "10"})
    )
    (root / "model").mkdir()  # SageMaker creates it, empty
    done = subprocess.run(
        [*ENTRY, "train"], env=_env(root), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return root


def test_train_writes_a_fit_output_into_opt_ml_model(trained: Path) -> None:
    model = trained / "model"
    assert sorted(p.name for p in model.iterdir()) == ["decomposition.csv", "model", "summary.json"]
    summary = json.loads((model / "summary.json").read_text())
    assert summary["engine"] == "ridge"
    assert set(summary["channels"]) == {"tv", "search"}
    from mediamix.service.fit import load_model

    assert load_model(model).channel_names == ("tv", "search")
    assert not (trained / "output" / "failure").exists()


def test_train_bad_input_writes_the_failure_file(tmp_path: Path) -> None:
    channel = tmp_path / "input" / "data" / "training"
    channel.mkdir(parents=True)
    (channel / "spec.yaml").write_text("data: missing.csv\ndate: date\nkpi: y\nchannels: {}\n")
    done = subprocess.run(
        [*ENTRY, "train"], env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    failure = (tmp_path / "output" / "failure").read_text()
    assert "bad input" in failure
    assert "spec.yaml" in failure or "missing.csv" in failure
    assert not (tmp_path / "model").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status, answer.read()


def test_serve_answers_ping_and_invocations(trained: Path, tmp_path: Path) -> None:
    port = _free_port()
    marker_dir = tmp_path / "tmp"
    marker_dir.mkdir()
    env = _env(trained, SAGEMAKER_BIND_TO_PORT=str(port), TMPDIR=str(marker_dir))
    server = subprocess.Popen(
        [*ENTRY, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 180  # a loaded CI machine starts Python slowly
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/ping")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, (
            server.stderr.read().decode() if server.poll() is not None else "no answer"
        )
        body = json.dumps({"spend": {"tv": [100.0, 0.0], "search": [50.0, 50.0]}}).encode()
        status, answer = _get(f"http://127.0.0.1:{port}/invocations", body)
        doc = json.loads(answer)
        assert status == 200
        assert len(doc["response"]) == 2
        assert set(doc["contributions"]) == {"tv", "search"}
        health = subprocess.run([*ENTRY, "health"], env=env, timeout=30)
        assert health.returncode == 0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
    assert server.returncode == 0
    # not serving any more: the health check of a stopped server fails only while the marker says it serves
    assert not (marker_dir / "mediamix-serving").exists()


def test_health_fails_when_the_server_does_not_answer(tmp_path: Path) -> None:
    (tmp_path / "mediamix-serving").write_text(str(_free_port()))
    done = subprocess.run([*ENTRY, "health"], env=_env(tmp_path, TMPDIR=str(tmp_path)), timeout=30)
    assert done.returncode == 1


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [*ENTRY, "fit"], env=_env(tmp_path), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "serve|train" in done.stderr
