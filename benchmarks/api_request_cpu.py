"""Server CPU per request of the API's model read routes: the number to compare when
the machine is too busy for latency figures to mean much.

Starts ``mediamix serve`` on loopback (one API process, one idle job worker) with a
temporary ``MEDIAMIX_HOME``, fits the ridge model of ``api_load_bench.py`` (156 weeks x
4 channels), loads it with a first prediction, then sends ``--requests`` requests per
route, first one at a time and then from 50 concurrent clients, and divides the API
process's CPU time (user + system, from /proc via psutil) by the request count.
Other processes on the machine change the wall time, much less the CPU time.
Writes ``benchmarks/results/api_request_cpu.json``.

    python benchmarks/api_request_cpu.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from api_load_bench import served_model  # the sibling benchmark's setup

RESULTS = Path(__file__).parent / "results"


async def _send(base: str, headers: dict[str, str], route: tuple, n: int, clients: int) -> None:
    method, path, body = route

    async def one(count: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            for _ in range(count):
                r = await client.request(method, path, json=body)
                if r.status_code != 200:
                    raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")

    share = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    await asyncio.gather(*(one(k) for k in share if k))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per route and mode")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="mediamix-cpu-") as home,
        served_model(Path(home)) as served,
    ):
        base, headers, model_id = served["base"], served["headers"], served["model_id"]
        plan = served["plan"]
        routes = {
            "predict": ("POST", f"/v1/models/{model_id}/predict", plan),
            "summary": ("GET", f"/v1/models/{model_id}/summary", None),
            "decomposition": (
                "GET",
                f"/v1/models/{model_id}/decomposition?offset=0&limit=52",
                None,
            ),
            "livez": ("GET", "/livez", None),
        }
        asyncio.run(_send(base, headers, routes["predict"], 5, 1))  # loads the model
        api = psutil.Process(served["server"].pid)  # one API process: uvicorn runs in serve itself
        figures: dict[str, dict[str, float]] = {}
        for name, route in routes.items():
            for mode, clients in (("sequential", 1), ("50_clients", 50)):
                before, start = api.cpu_times(), time.perf_counter()
                asyncio.run(_send(base, headers, route, args.requests, clients))
                after, wall = api.cpu_times(), time.perf_counter() - start
                cpu = (after.user + after.system) - (before.user + before.system)
                figures[f"{name}/{mode}"] = {
                    "api_cpu_ms_per_request": round(1000 * cpu / args.requests, 2),
                    "wall_seconds": round(wall, 2),
                }
    report = {
        "command": f"python benchmarks/api_request_cpu.py --requests {args.requests}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()],
        "routes": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api_request_cpu.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
