"""The SageMaker serving contract: /ping, /invocations (CSV and JSON), SIGTERM drains."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _server import env_for, free_port, mediamix, output, stop
from fastapi.testclient import TestClient

from mediamix.api.sagemaker import create_sagemaker_app


@pytest.fixture(scope="module")
def model_dir(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mediamix.service.fit import fit

    out = tmp_path_factory.mktemp("sm") / "model"
    fit(synth_dir / "spec.yaml", out)
    return out


@pytest.fixture(scope="module")
def sm(model_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_sagemaker_app(model_dir)) as c:
        yield c


def _history(synth_dir: Path) -> dict[str, list[float]]:
    rows = list(csv.DictReader((synth_dir / "synth.csv").open()))
    return {ch: [float(r[f"{ch}_spend"]) for r in rows] for ch in ("tv", "search")}


def _decomposition(model_dir: Path) -> dict[str, list[float]]:
    rows = list(csv.DictReader((model_dir / "decomposition.csv").open()))
    return {ch: [float(r[ch]) for r in rows] for ch in ("tv", "search")}


def test_ping_and_json_invocation_match_the_fit(
    sm: TestClient, synth_dir: Path, model_dir: Path
) -> None:
    assert sm.get("/ping").status_code == 200
    spend = _history(synth_dir)
    r = sm.post("/invocations", json={"spend": spend})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = _decomposition(model_dir)
    for ch in ("tv", "search"):
        assert body["contributions"][ch] == pytest.approx(expected[ch], rel=1e-9, abs=1e-6)
    totals = [a + b for a, b in zip(expected["tv"], expected["search"], strict=True)]
    assert body["response"] == pytest.approx(totals, rel=1e-9, abs=1e-6)


def test_csv_invocation_equals_json(sm: TestClient, synth_dir: Path) -> None:
    spend = _history(synth_dir)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["search", "tv"])  # any column order
    for s, t in zip(spend["search"], spend["tv"], strict=True):
        writer.writerow([s, t])
    as_csv = sm.post("/invocations", content=buf.getvalue(), headers={"Content-Type": "text/csv"})
    as_json = sm.post("/invocations", json={"spend": spend})
    assert as_csv.status_code == 200
    assert as_csv.json() == as_json.json()


@pytest.mark.parametrize(
    ("body", "content_type", "column", "row"),
    [
        ("tv,search\n1,abc\n", "text/csv", "search", 1),
        ("tv,search\n1,2\n3,-4\n", "text/csv", "search", 2),
        ("tv,radio\n1,2\n", "text/csv", "radio", None),
        (json.dumps({"spend": {"tv": [1.0]}}), "application/json", "search", None),
        (json.dumps({"spend": {"tv": [1, "NaN"], "search": [1, 2]}}), "application/json", "tv", 2),
    ],
)
def test_bad_plans_are_422_naming_row_and_column(
    sm: TestClient, body: str, content_type: str, column: str, row: int | None
) -> None:
    r = sm.post("/invocations", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert any(p["column"] == column and p["row"] == row for p in problems), problems


def test_unsupported_type_and_garbage(sm: TestClient) -> None:
    assert (
        sm.post("/invocations", content=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 422
    )
    assert (
        sm.post(
            "/invocations", content=b"\xff\xfe", headers={"Content-Type": "text/csv"}
        ).status_code
        == 422
    )
    assert (
        sm.post(
            "/invocations", content=b"{", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )


@pytest.mark.slow
def test_sigterm_drains_in_flight_requests(tmp_path: Path, model_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = mediamix(
        "serve",
        "--sagemaker",
        "--model-dir",
        str(model_dir),
        "--port",
        str(port),
        env=env_for(tmp_path / "home"),
    )
    _wait_ping(base, server)
    result: dict[str, object] = {}

    def slow_body() -> Iterator[bytes]:
        yield b'{"spend": {"tv": [1000.0, 2000.0],'
        time.sleep(2.0)  # SIGTERM arrives while this request is in flight
        yield b' "search": [500.0, 0.0]}}'

    def call() -> None:
        r = httpx.post(
            f"{base}/invocations",
            content=slow_body(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        result["status"] = r.status_code
        result["body"] = r.json()

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.8)
    started = time.monotonic()
    code = stop(server)
    thread.join()
    assert result["status"] == 200
    assert len(result["body"]["response"]) == 2  # type: ignore[index]
    assert code == 0
    assert time.monotonic() - started < 30


def _wait_ping(base: str, proc) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, output(proc)
        try:
            if httpx.get(f"{base}/ping", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("no /ping")
