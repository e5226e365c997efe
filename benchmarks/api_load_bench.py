"""Load on a served API: many clients on predict, summary and decomposition while a
Bayesian fit job runs; latency percentiles per route, errors, and /livez latency.

Starts ``mediamix serve`` on loopback (``--api-workers`` API processes, default one;
one job worker process) with a temporary ``MEDIAMIX_HOME``, uploads a synthetic
dataset, fits a ridge model for the reads, queues a Bayesian fit that runs during the
load, then runs ``--clients`` async clients for ``--seconds``. Each client cycles
predict (a 13-week plan), summary and a decomposition page, waiting ``--think`` seconds
between requests (0: as fast as the server answers, a saturation test); all clients
start at once, or evenly spread over ``--ramp`` seconds (then their first requests do
not arrive as one burst); a separate prober reads ``/livez`` every 100 ms. The first
prediction, which loads the model into the API's cache, is timed apart. The report
also gives the CPU the API processes, the job worker and the load generator used over
the window, and when the requests slower than a second started. Writes
``benchmarks/results/api_load[_think<T>][_ramp<R>][_workers<N>].json`` and exits
non-zero on any error or a missed target (predict p99 <= 100 ms, /livez p99 <= 50 ms).

    python benchmarks/api_load_bench.py [--clients 50] [--seconds 120] [--think 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np

RESULTS = Path(__file__).parent / "results"
TARGETS = {"predict": 0.100, "livez": 0.050}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time (user + system) so far of the API processes (``pid`` and its children
    at its own priority), of the job workers (its children at a lower priority), and
    of this load generator."""
    import psutil

    root = psutil.Process(pid)
    t = root.cpu_times()
    seconds = {"api": t.user + t.system, "job_workers": 0.0}
    for child in root.children(recursive=True):
        try:
            t = child.cpu_times()
            kind = "job_workers" if child.nice() > root.nice() else "api"
        except psutil.NoSuchProcess:
            continue
        seconds[kind] += t.user + t.system
    mine = psutil.Process().cpu_times()
    seconds["load_generator"] = mine.user + mine.system
    return seconds


def _wait_job(base: str, headers: dict[str, str], job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.5)
    raise RuntimeError(f"job {job_id} did not finish in {timeout} s")


@contextlib.contextmanager
def served_model(home: Path, api_workers: int = 1) -> Iterator[dict[str, Any]]:
    """``mediamix serve`` on loopback with state in ``home`` (rate limits lifted, one
    job worker) and a fitted ridge model of a synthetic 156-week x 4-channel dataset.

    Yields ``server`` (the process), ``base`` (URL), ``headers`` (an admin key),
    ``dataset``, ``model_id`` and ``plan`` (a 13-week spend plan); stops the server
    on exit.
    """
    env = dict(os.environ, MEDIAMIX_HOME=str(home), MEDIAMIX_TRACKING="false")
    env["MEDIAMIX_API_RATE_PER_MINUTE"] = "100000000"
    env["MEDIAMIX_API_RATE_BURST"] = "10000000"
    mm = str(Path(sys.executable).parent / "mediamix")
    key = subprocess.run(
        [mm, "keys", "create", "--tenant", "acme", "--scope", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    data = home / "data"
    subprocess.run(
        [mm, "synth", "--out", str(data), "--weeks", "156", "--channels", "4", "--seed", "3"],
        env=env,
        capture_output=True,
        check=True,
    )
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *(mm, "serve", "--port", str(port), "--workers", str(api_workers)),
            *("--job-workers", "1", "--log-level", "WARNING"),
        ],
        env=env,
        start_new_session=True,
    )
    try:
        # several API processes start slowly on a busy machine: wait, then say so
        deadline = time.monotonic() + 300
        while True:
            try:
                httpx.get(f"{base}/livez", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the API did not answer /livez within 300 s") from None
                time.sleep(0.2)
        files = {
            "data": ("synth.csv", (data / "synth.csv").read_bytes()),
            "spec": ("spec.yaml", (data / "spec.yaml").read_bytes()),
        }
        dataset = httpx.post(f"{base}/v1/datasets", headers=headers, files=files, timeout=60).json()
        fit = httpx.post(
            f"{base}/v1/models", headers=headers, json={"dataset_id": dataset["id"]}, timeout=60
        ).json()
        _wait_job(base, headers, fit["job_id"], 900)
        model_id = fit["model_id"]
        summary = httpx.get(f"{base}/v1/models/{model_id}/summary", headers=headers).json()
        plan = {"spend": {c: [1000.0 * (k + 1)] * 13 for k, c in enumerate(summary["channels"])}}
        yield {
            "server": server,
            "base": base,
            "headers": headers,
            "dataset": dataset,
            "model_id": model_id,
            "plan": plan,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)


async def _client(
    client: httpx.AsyncClient,
    model_id: str,
    plan: dict,
    until: float,
    out: dict,
    think: float,
    delay: float = 0.0,
) -> None:
    routes = [
        ("predict", "POST", f"/v1/models/{model_id}/predict", plan),
        ("summary", "GET", f"/v1/models/{model_id}/summary", None),
        ("decomposition", "GET", f"/v1/models/{model_id}/decomposition?offset=0&limit=52", None),
    ]
    await asyncio.sleep(delay)
    i = 0
    while time.monotonic() < until:
        name, method, path, body = routes[i % len(routes)]
        i += 1
        start = time.perf_counter()
        try:
            r = await client.request(method, path, json=body)
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        out[name].append(time.perf_counter() - start)
        out["started"].append((start, time.perf_counter() - start))
        if not ok:
            out["errors"].append(name)
        if think:
            await asyncio.sleep(think)


async def _prober(client: httpx.AsyncClient, until: float, out: dict) -> None:
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            ok = (await client.get("/livez")).status_code == 200
        except httpx.HTTPError:
            ok = False
        out["livez"].append(time.perf_counter() - start)
        out["started"].append((start, time.perf_counter() - start))
        if not ok:
            out["errors"].append("livez")
        await asyncio.sleep(0.1)


async def _load(
    base: str,
    headers: dict,
    model_id: str,
    plan: dict,
    clients: int,
    seconds: float,
    think: float,
    ramp: float = 0.0,
) -> dict:
    out: dict = {
        "predict": [],
        "summary": [],
        "decomposition": [],
        "livez": [],
        "errors": [],
        "started": [],
        "t0": time.perf_counter(),
    }
    # every client (each builds an SSL context, tens of ms of CPU) exists before the
    # window opens: built inside it, they stalled this one event loop for seconds and
    # the first requests' latency counted the load generator's own start-up
    async with contextlib.AsyncExitStack() as stack:
        prober = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
        pool = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, headers=headers, timeout=30)
            )
            for _ in range(clients)
        ]
        out["t0"] = time.perf_counter()
        until = time.monotonic() + seconds
        await asyncio.gather(
            _prober(prober, until, out),
            *(
                _client(c, model_id, plan, until, out, think, ramp * k / clients)
                for k, c in enumerate(pool)
            ),
        )
        out["window"] = time.perf_counter() - out["t0"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds each client waits between requests"
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=0.0,
        help="seconds over which the clients start, evenly spaced (0: all at once)",
    )
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes (mediamix serve --workers)"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="mediamix-load-") as home,
        served_model(Path(home), api_workers=args.api_workers) as served,
    ):
        server, base, headers = served["server"], served["base"], served["headers"]
        dataset, model_id, plan = served["dataset"], served["model_id"], served["plan"]
        # the first prediction loads the model into the API process's cache
        first = time.perf_counter()
        httpx.post(f"{base}/v1/models/{model_id}/predict", headers=headers, json=plan, timeout=60)
        load_seconds = time.perf_counter() - first
        bayes = httpx.post(
            f"{base}/v1/models",
            headers=headers,
            json={
                "dataset_id": dataset["id"],
                "engine": "bayes",
                "chains": 4,
                "warmup": 20000,
                "draws": 20000,
            },
            timeout=60,
        ).json()
        while (
            httpx.get(f"{base}/v1/jobs/{bayes['job_id']}", headers=headers).json()["state"]
            == "queued"
        ):
            time.sleep(0.2)
        cpu_before = _cpu_seconds(server.pid)
        out = asyncio.run(
            _load(
                base,
                headers,
                model_id,
                plan,
                args.clients,
                args.seconds,
                args.think,
                args.ramp,
            )
        )
        elapsed = out["window"]
        cpu_after = _cpu_seconds(server.pid)
        bayes_job = httpx.get(f"{base}/v1/jobs/{bayes['job_id']}", headers=headers).json()
        bayes_state, bayes_error = bayes_job["state"], bayes_job.get("error")
        httpx.post(f"{base}/v1/jobs/{bayes['job_id']}/cancel", headers=headers)
    routes = {}
    for name in ("predict", "summary", "decomposition", "livez"):
        ms = np.array(out[name]) * 1000
        routes[name] = {
            "requests": int(ms.size),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1),
        }
    n_requests = sum(r["requests"] for r in routes.values())
    # when the slow requests started (second of the window -> count over 1 s): a stall
    # of the whole machine shows as one burst across every route
    slow: dict[str, int] = {}
    for begun, took in out["started"]:
        if took > 1.0:
            second = str(int(begun - out["t0"]))
            slow[second] = slow.get(second, 0) + 1
    report = {
        "command": "python benchmarks/api_load_bench.py "
        f"--clients {args.clients} --seconds {args.seconds:g} --think {args.think:g}"
        + (f" --ramp {args.ramp:g}" if args.ramp else "")
        + (f" --api-workers {args.api_workers}" if args.api_workers != 1 else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "clients": args.clients,
        # other work on the machine skews latency; recorded to judge a run
        "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(elapsed, 1),
        "bayes_fit_running_at_end": bayes_state == "running",
        "bayes_job_state_at_end": bayes_state,
        "bayes_job_error": bayes_error,
        "first_predict_with_model_load_ms": round(load_seconds * 1000, 1),
        "errors": len(out["errors"]),
        "throughput_rps": round(
            sum(r["requests"] for k, r in routes.items() if k != "livez") / elapsed, 1
        ),
        "routes": routes,
        # cores busy on average over the window (2 = both cores of a 2-core machine)
        "cpu_cores_used": {
            k: round((cpu_after[k] - cpu_before[k]) / elapsed, 2) for k in cpu_before
        },
        "api_cpu_ms_per_request": round(
            1000 * (cpu_after["api"] - cpu_before["api"]) / max(1, n_requests), 2
        ),
        "requests_over_1s_by_start_second": slow,
        "targets_ms": {k: v * 1000 for k, v in TARGETS.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    name = "api_load.json" if not args.think else f"api_load_think{args.think:g}.json"
    if args.ramp:
        name = name.replace(".json", f"_ramp{args.ramp:g}.json")
    if args.api_workers != 1:
        name = name.replace(".json", f"_workers{args.api_workers}.json")
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    missed = [k for k, v in TARGETS.items() if routes[k]["p99_ms"] > v * 1000]
    return 1 if out["errors"] or missed or bayes_state != "running" else 0


if __name__ == "__main__":
    sys.exit(main())
