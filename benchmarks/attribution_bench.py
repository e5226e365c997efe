"""Attribution benchmarks: event log at 1M journeys, Markov order 3, Data.csv vs ChannelAttribution.

Run from the repository root::

    .venv/bin/python benchmarks/attribution_bench.py [--journeys 1000000] [--write]

Stages run in separate subprocesses so each reports its own peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``):

1. ``pipeline``: event log (Parquet, generated deterministically in a temp dir) ->
   journeys (DuckDB SQL) -> every rule-based method -> Markov order 1.
   Targets: <= 30 s and <= 2 GB peak for 1,000,000 journeys (~5M touches).
2. ``markov3``: Markov order 3 on the same journeys.
3. ``datacsv``: Data.csv order-1 Markov (and heuristics), best of 5, against
   ChannelAttribution's ``markov_model`` in a separate venv (GPL-3: a benchmark-only
   tool, never a dependency): ``CA_PYTHON`` (default /tmp/ca-venv/bin/python), made by
   ``python3 -m venv /tmp/ca-venv && /tmp/ca-venv/bin/pip install channelattribution
   matplotlib``. Skipped with a note when that interpreter is absent.

``--write`` writes benchmarks/results/attribution.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# ChannelAttribution's Data.csv is GPL-3 and not bundled: name its folder in the environment.
DATA_CSV = Path(os.environ.get("MEDIAMIX_CHANNELATTRIBUTION_DATA", ".")) / "Data.csv"
CA_PYTHON = Path(os.environ.get("CA_PYTHON", "/tmp/ca-venv/bin/python"))
CHANNELS = [f"ch{i:02d}" for i in range(12)]


def generate_event_log(path: Path, n_journeys: int, seed: int = 20240101) -> dict[str, int]:
    """Write a deterministic event log (Parquet) of ``n_journeys`` journeys.

    Users own two journeys each: the first always converts (so the second starts a new
    journey), the second converts with a probability that depends on its channels.
    Journey lengths are 1 + Poisson(4) (mean 5 touches); gaps between touches are
    exponential with a 2-day mean, so some touches fall outside a 30-day lookback.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    lengths = 1 + rng.poisson(4.0, n_journeys)
    n_touches = int(lengths.sum())
    jid = np.repeat(np.arange(n_journeys), lengths)
    # channel popularity is skewed, as in real logs
    pop = rng.dirichlet(np.ones(len(CHANNELS)) * 2.0)
    codes = rng.choice(len(CHANNELS), size=n_touches, p=pop).astype(np.int32)
    gaps = rng.exponential(2.0 * 86_400, n_touches)
    user = jid // 2
    # per user: journey 2u starts at a random time in 2024; 2u+1 starts after it ends
    t = np.cumsum(gaps)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    t -= np.repeat(t[starts] - gaps[starts], lengths)  # time since the journey's start
    base = rng.uniform(0, 300 * 86_400, n_journeys // 2 + 1)[user]
    first_end = np.zeros(n_journeys)
    ends = t[starts + lengths - 1]
    first_end[1::2] = ends[0::2][: len(first_end[1::2])] + 86_400
    ts = base + np.repeat(first_end, lengths) + t
    lift = np.array([0.5, -0.3, 0.2, 0.0, 0.8, -0.5, 0.1, 0.3, -0.1, 0.4, 0.0, 0.6])
    score = np.bincount(jid, lift[codes], minlength=n_journeys) / lengths - 1.2
    converts = rng.random(n_journeys) < 1 / (1 + np.exp(-score))
    converts[0::2] = True
    conversion = np.zeros(n_touches, dtype=np.int8)
    last = starts + lengths - 1
    conversion[last[converts]] = 1
    value = np.where(conversion == 1, np.round(rng.lognormal(3.0, 0.7, n_touches), 2), np.nan)
    table = pa.table(
        {
            "user_id": pa.array(np.char.add("u", user.astype(str)).astype(object)),
            "timestamp": pa.array(
                (ts * 1e6).astype("int64") + 1_704_067_200_000_000, type=pa.timestamp("us")
            ),
            "channel": pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(CHANNELS)).cast(
                pa.string()
            ),
            "conversion": pa.array(conversion),
            "conversion_value": pa.array(value),
        }
    )
    pq.write_table(table, path, compression="zstd")
    return {"journeys": n_journeys, "touches": n_touches, "conversions": int(converts.sum())}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stage_pipeline(file: Path, order: int) -> dict[str, object]:
    from mediamix.attribution import read_event_log, rules
    from mediamix.attribution.markov import markov

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    j = read_event_log(file, lookback_days=30)
    times["journeys (DuckDB)"] = time.perf_counter() - t0
    if order == 1:
        for name, f in [
            ("first_touch", rules.first_touch),
            ("last_touch", rules.last_touch),
            ("linear", rules.linear),
            ("linear_channel", rules.linear_channel),
            ("time_decay", rules.time_decay),
            ("position_based", rules.position_based),
        ]:
            t = time.perf_counter()
            f(j)
            times[name] = time.perf_counter() - t
    t = time.perf_counter()
    res = markov(j, order)
    times[f"markov order {order}"] = time.perf_counter() - t
    return {
        "times": times,
        "total": time.perf_counter() - t0,
        "peak_mb": _peak_mb(),
        "n_journeys": j.n_journeys,
        "n_touches": len(j.codes),
        "n_states": len(res.states),
        "p_conversion": res.p_conversion,
    }


def stage_datacsv() -> dict[str, object]:
    from mediamix.attribution import linear, read_paths
    from mediamix.attribution.markov import markov

    read, fit, heur = [], [], []
    for _ in range(5):
        t = time.perf_counter()
        j = read_paths(DATA_CSV)
        read.append(time.perf_counter() - t)
        t = time.perf_counter()
        res = markov(j, 1)
        fit.append(time.perf_counter() - t)
        t = time.perf_counter()
        linear(j)
        heur.append(time.perf_counter() - t)
    t = time.perf_counter()
    markov(j, 3)
    t3 = time.perf_counter() - t
    return {
        "read": min(read),
        "markov1": min(fit),
        "linear": min(heur),
        "markov3": t3,
        "p_conversion": res.p_conversion,
        "conversions": dict(zip(res.channels, res.conversions.tolist(), strict=True)),
        "peak_mb": _peak_mb(),
    }


CA_CODE = r"""
import json, sys, time, pandas as pd
from ChannelAttribution import markov_model, heuristic_models
D = pd.read_csv(sys.argv[1], sep=";")
t = []
for _ in range(5):
    s = time.perf_counter()
    r = markov_model(D, "path", "total_conversions", var_value="total_conversion_value",
                     var_null="total_null", verbose=False, flg_pro=False)
    t.append(time.perf_counter() - s)
s = time.perf_counter()
heuristic_models(D, "path", "total_conversions", var_value="total_conversion_value",
                 flg_pro=False)
th = time.perf_counter() - s
s = time.perf_counter()
markov_model(D, "path", "total_conversions", var_null="total_null", order=3, verbose=False,
             flg_pro=False)
t3 = time.perf_counter() - s
from importlib.metadata import version
print(json.dumps({"markov1": min(t), "heuristics": th, "markov3": t3,
                  "version": version("channelattribution"),
                  "conversions": dict(zip(r["channel_name"], r["total_conversions"]))}))
"""


def stage_ca() -> dict[str, object] | None:
    if not CA_PYTHON.exists():
        return None
    out = subprocess.run(
        [str(CA_PYTHON), "-c", CA_CODE, str(DATA_CSV)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(args: list[str]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    import duckdb

    return (
        f"{cpu}; nproc = {nproc}; Python {platform.python_version()}; "
        f"numpy {np.__version__}; duckdb {duckdb.__version__}; {platform.system()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--write", action="store_true", help="write benchmarks/results/attribution.md")
    ap.add_argument("--stage", choices=["pipeline", "datacsv"], help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--order", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage == "pipeline":
        print(json.dumps(stage_pipeline(args.file, args.order)))
        return
    if args.stage == "datacsv":
        print(json.dumps(stage_datacsv()))
        return
    lines = [
        f"# Attribution benchmarks\n\nCommand: `.venv/bin/python benchmarks/attribution_bench.py"
        f" --journeys {args.journeys}{' --write' if args.write else ''}`\n",
        f"Machine: {_machine()}\n",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.parquet"
        t = time.perf_counter()
        meta = generate_event_log(log, args.journeys)
        gen = time.perf_counter() - t
        lines.append(
            f"## Event log: {meta['journeys']:,} generated journeys, "
            f"{meta['touches']:,} touches, {meta['conversions']:,} conversions "
            f"(Parquet {log.stat().st_size / 1e6:.0f} MB, generated in {gen:.1f} s)\n"
        )
        p1 = _child(["--stage", "pipeline", "--file", str(log), "--order", "1"])
        p3 = _child(["--stage", "pipeline", "--file", str(log), "--order", "3"])
    times1 = p1["times"]
    assert isinstance(times1, dict)
    lines.append(
        f"Journeys after the rules (30-day lookback): {p1['n_journeys']:,}; "
        f"touches kept: {p1['n_touches']:,}.\n"
    )
    lines.append("| step | seconds |\n|---|---|")
    lines += [f"| {k} | {v:.2f} |" for k, v in times1.items()]
    lines.append(
        f"| **total: journeys + all rule-based + Markov order 1** | **{p1['total']:.2f}** |"
    )
    lines.append(
        f"\nPeak resident memory (whole process): **{p1['peak_mb']:,.0f} MB**. "
        f"Targets: <= 30 s, <= 2,048 MB.\n"
    )
    times3 = p3["times"]
    assert isinstance(times3, dict)
    lines.append(
        f"Markov order 3 on the same journeys: {times3['markov order 3']:.2f} s "
        f"({p3['n_states']:,} states; journeys {times3['journeys (DuckDB)']:.2f} s; "
        f"peak {p3['peak_mb']:,.0f} MB).\n"
    )
    d = _child(["--stage", "datacsv"])
    ca = stage_ca()
    lines.append("## Data.csv (ChannelAttribution example, 10,000 paths), best of 5\n")
    lines.append("| | mediamix (exact solve) | ChannelAttribution (simulation) |\n|---|---|---|")
    ca_m1 = f"{ca['markov1']:.3f} s" if ca else "not installed"
    ca_m3 = f"{ca['markov3']:.3f} s" if ca else "not installed"
    ca_h = f"{ca['heuristics']:.3f} s" if ca else "not installed"
    lines.append(
        f"| Markov order 1 (fit) | {d['markov1']:.3f} s (+ {d['read']:.3f} s reading "
        f"and validating the CSV) | {ca_m1} |"
    )
    lines.append(f"| Markov order 3 (fit, one run) | {d['markov3']:.3f} s | {ca_m3} |")
    lines.append(f"| linear heuristic | {d['linear']:.4f} s | {ca_h} (first+last+linear) |")
    lines.append(f"\nP(conversion) = {d['p_conversion']:.6f}.\n")
    if ca:
        ours = d["conversions"]
        theirs = ca["conversions"]
        assert isinstance(ours, dict)
        assert isinstance(theirs, dict)
        lines.append(
            f"Order-1 credited conversions, mediamix (exact) vs ChannelAttribution "
            f"{ca['version']} (simulated, default settings):\n"
        )
        lines.append("| channel | mediamix | ChannelAttribution | difference |\n|---|---|---|---|")
        for ch in sorted(ours):
            lines.append(
                f"| {ch} | {ours[ch]:,.2f} | {theirs[ch]:,.2f} | "
                f"{100 * (theirs[ch] - ours[ch]) / ours[ch]:+.1f}% |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        out = ROOT / "benchmarks" / "results" / "attribution.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


if __name__ == "__main__":
    main()
