"""The model registry under concurrency and crashes (embedded SQLite store).

Two checks, both on one small ridge fit registered again and again:

* concurrency: ``--processes`` processes register ``--each`` versions each at once;
  the version numbers must be unique and contiguous, none lost, and the registry must
  list exactly those versions;
* crashes: ``--kills`` times, a process that registers in a loop is killed with
  SIGKILL at a random moment; afterwards the registry must list only complete
  versions, and every listed version must load (files present, hashes verified).

Prints the figures and writes ``benchmarks/results/registry_stress.json``; exits
non-zero when a check fails.

    python benchmarks/registry_stress_bench.py [--processes 8] [--each 25] [--kills 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "registry_stress.json"

_REGISTER = """
import sys
from pathlib import Path
from mediamix.service.registry import register_model
from mediamix.tracking.config import TrackingConfig
config = TrackingConfig(home=Path(sys.argv[1]))
for _ in range(int(sys.argv[3])):
    print(register_model(sys.argv[2], "stress", config)["version"], flush=True)
"""


def _fit(work: Path) -> Path:
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.fit import fit
    from mediamix.service.synth import write_synth

    spec, _ = write_synth(work / "synth", SynthConfig(seed=5, weeks=80, channels=2))
    out = work / "fit"
    fit(spec, out, {"engine": "ridge", "seed": 0})
    return out


def _concurrency(work: Path, fit_dir: Path, processes: int, each: int) -> dict:
    from mediamix.service.registry import list_models
    from mediamix.tracking.config import TrackingConfig

    home = work / "concurrent"
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTER, str(home), str(fit_dir), str(each)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    printed: list[int] = []
    failures = 0
    for p in procs:
        out, err = p.communicate()
        failures += p.returncode != 0
        if p.returncode != 0:
            print(err[-2000:], file=sys.stderr)
        printed += [int(line) for line in out.split()]
    seconds = time.perf_counter() - start
    (model,) = list_models(TrackingConfig(home=home))
    listed = [v["version"] for v in model["versions"]]
    expected = list(range(1, processes * each + 1))
    return {
        "processes": processes,
        "each": each,
        "failed_processes": failures,
        "versions_printed": len(printed),
        "unique_and_contiguous": sorted(printed) == expected,
        "listed_equals_printed": listed == sorted(printed),
        "seconds": round(seconds, 1),
        "ok": failures == 0 and sorted(printed) == expected and listed == expected,
    }


def _crashes(work: Path, fit_dir: Path, kills: int, seed: int) -> dict:
    from mediamix.service.registry import list_models, load_result
    from mediamix.tracking.config import TrackingConfig
    from mediamix.tracking.registry import ModelRef, Registry

    home = work / "crashes"
    rng = random.Random(seed)
    start = time.perf_counter()
    registered_before_kill = 0
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", _REGISTER, str(home), str(fit_dir), "1000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        # a moment anywhere from the imports to the middle of later registrations
        time.sleep(rng.uniform(0.5, 12.0))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        registered_before_kill += len(out.split())
    config = TrackingConfig(home=home)
    models = list_models(config)
    versions = [v["version"] for m in models for v in m["versions"]]
    registry = Registry(config)
    loaded = 0
    for number in versions:
        load_result(registry.fetch(ModelRef("stress", number)))
        loaded += 1
    return {
        "kills": kills,
        "versions_confirmed_before_kills": registered_before_kill,
        "versions_listed": len(versions),
        "versions_loaded": loaded,
        "seconds": round(time.perf_counter() - start, 1),
        # every confirmed version is listed; a version created just before its
        # confirmation was printed may be listed too, and must then load as well
        "ok": loaded == len(versions) and len(versions) >= registered_before_kill,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--each", type=int, default=25)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ["MEDIAMIX_TRACKING"] = "false"  # the fit itself is not tracked
    with tempfile.TemporaryDirectory(prefix="mediamix-registry-") as tmp:
        work = Path(tmp)
        fit_dir = _fit(work)
        concurrency = _concurrency(work, fit_dir, args.processes, args.each)
        print(json.dumps({"concurrency": concurrency}, indent=2), flush=True)
        crashes = _crashes(work, fit_dir, args.kills, args.seed)
    report = {
        "command": "python benchmarks/registry_stress_bench.py "
        f"--processes {args.processes} --each {args.each} --kills {args.kills} --seed {args.seed}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "concurrency": concurrency,
        "crashes": crashes,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if concurrency["ok"] and crashes["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
