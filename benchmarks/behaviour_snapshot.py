"""Snapshot of the user-visible outputs, to prove a refactor changes no behaviour.

Runs the command line on a fixed set of inputs (all seeded) and keeps what users
and scripts read: ``summary.json``, ``decomposition.csv``, ``plan.json`` and the
attribution CSVs. Run it once before a refactor and once after, then compare::

    python benchmarks/behaviour_snapshot.py --out /tmp/before
    # ... refactor ...
    python benchmarks/behaviour_snapshot.py --out /tmp/after --compare /tmp/before

``--compare`` exits 1 and names every file that is not byte-for-byte identical.
The inputs: a synthetic ridge fit with a synergy pair and a lift test, the bundled
Robyn example, a short NUTS fit of the Bayesian engine (``--no-bayes`` skips it:
it needs the ``bayes`` extra), plans on both models (the risk-checked plan, a
weekly plan), a plan on response curves given directly, and attribution ``all``
on a small aggregated path file and on a small event log (the ``attribution``
extra). Takes about a minute on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
MEDIAMIX = str(Path(sys.executable).with_name("mediamix"))

CURVES = {
    "channels": {
        "tv": {
            "beta": 200000.0,
            "saturation": {"type": "hill", "half_saturation": 50000.0, "slope": 1.5},
            "current_spend": 40000.0,
            "min": 0.0,
            "max": 100000.0,
        },
        "search": {
            "beta": 120000.0,
            "saturation": {"type": "hill", "half_saturation": 20000.0, "slope": 1.0},
            "current_spend": 30000.0,
        },
        "social": {
            "beta": 80000.0,
            "saturation": {"type": "logistic", "lam": 0.00005},
            "current_spend": 10000.0,
        },
    }
}


def run(*args: str) -> None:
    print("$ mediamix", " ".join(args), flush=True)
    subprocess.run([MEDIAMIX, *args], check=True, stdout=subprocess.DEVNULL)


def synthetic_spec(out: Path) -> Path:
    """A synthetic dataset whose spec adds geometric adstock, a synergy pair and a lift test."""
    run("synth", "--out", str(out / "synth"), "--seed", "3", "--weeks", "104", "--channels", "3")
    spec_file = out / "synth" / "spec.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    truth = json.loads((out / "synth" / "truth.json").read_text())
    # Weekly plans need geometric adstock; the Robyn example covers the Weibull search.
    for channel in spec["channels"].values():
        channel["adstock"] = {"type": "geometric"}
    spec["synergy"] = [["tv", "search"]]
    weeks = pd.read_csv(out / "synth" / "synth.csv")["date"]
    tv = truth["channels"]["tv"]
    lift = 0.1 * float(tv["contribution"])
    spec["lift_tests"] = [
        {"channel": "tv", "start": str(weeks[60]), "end": str(weeks[71]), "lift": round(lift, 2)}
    ]
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    return spec_file


def paths_file(out: Path) -> Path:
    rng = np.random.default_rng(5)
    channels = ["email", "search", "social", "display", "tv"]
    rows = []
    for _ in range(60):
        steps = rng.choice(channels, size=int(rng.integers(1, 6)))
        rows.append(
            {
                "path": " > ".join(steps),
                "total_conversions": int(rng.integers(0, 40)),
                "total_conversion_value": round(float(rng.uniform(0, 5000)), 2),
                "total_null": int(rng.integers(0, 300)),
            }
        )
    frame = pd.DataFrame(rows).groupby("path", as_index=False).sum()
    file = out / "paths.csv"
    frame.to_csv(file, sep=";", index=False)
    return file


def event_log(out: Path) -> Path:
    rng = np.random.default_rng(6)
    channels = ["email", "search", "social", "display"]
    rows = []
    start = np.datetime64("2024-01-01T00:00:00")
    for user in range(80):
        t = start + np.timedelta64(int(rng.integers(0, 60 * 24 * 3600)), "s")
        for _ in range(int(rng.integers(1, 8))):
            t = t + np.timedelta64(int(rng.integers(3600, 12 * 24 * 3600)), "s")
            converted = int(rng.random() < 0.2)
            rows.append(
                {
                    "user_id": f"u{user}",
                    "timestamp": str(t),
                    "channel": str(rng.choice(channels)),
                    "conversion": converted,
                    "conversion_value": round(float(rng.uniform(10, 200)), 2) if converted else 0,
                }
            )
    file = out / "events.csv"
    pd.DataFrame(rows).to_csv(file, index=False)
    return file


def snapshot(out: Path, bayes: bool) -> None:
    if out.exists():
        shutil.rmtree(out)
    work = out / "work"
    work.mkdir(parents=True)
    keep = out / "outputs"
    keep.mkdir()
    spec = synthetic_spec(work)
    robyn = ROOT / "examples" / "robyn-simulated-weekly" / "spec.yaml"
    fits = {"ridge-synth": (spec, ["--engine", "ridge", "--seed", "1"])}
    fits["ridge-robyn"] = (robyn, ["--engine", "ridge", "--seed", "0"])
    if bayes:
        fits["bayes-synth"] = (
            spec,
            [
                "--engine",
                "bayes",
                "--seed",
                "2",
                "--chains",
                "1",
                "--warmup",
                "150",
                "--draws",
                "150",
            ],
        )
    for name, (spec_file, args) in fits.items():
        run("fit", str(spec_file), "--out", str(work / name), *args)
        for file in ("summary.json", "decomposition.csv"):
            shutil.copy(work / name / file, keep / f"{name}.{file}")
        budget = "1000000"
        run("optimize", "--model", str(work / name), "--budget", budget, "--out",
            str(keep / f"{name}.plan.json"))  # fmt: skip
    run("optimize", "--model", str(work / "ridge-synth"), "--budget", "60000", "--weekly",
        "--periods", "8", "--out", str(keep / "ridge-synth.weekly-plan.json"))  # fmt: skip
    curves = work / "curves.json"
    curves.write_text(json.dumps(CURVES))
    run("optimize", "--curves", str(curves), "--budget", "90000", "--out",
        str(keep / "curves.plan.json"))  # fmt: skip
    run("optimize", "--curves", str(curves), "--budget", "90000", "--objective", "target_roi",
        "--target", "2.5", "--out", str(keep / "curves.target-roi.plan.json"))  # fmt: skip
    for name, source in (("paths", paths_file(work)), ("events", event_log(work))):
        run("attribute", str(source), "--method", "all", "--order", "2", "--out",
            str(keep / f"attribution-{name}.csv"))  # fmt: skip


def compare(out: Path, reference: Path) -> int:
    new, old = out / "outputs", reference / "outputs"
    names = sorted({p.name for p in new.iterdir()} | {p.name for p in old.iterdir()})
    bad = [
        n
        for n in names
        if not ((new / n).exists() and (old / n).exists() and filecmp.cmp(new / n, old / n, False))
    ]
    for n in bad:
        print(f"differs: {n}")
    print(f"{len(names) - len(bad)} of {len(names)} files byte-for-byte identical")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder for the snapshot.")
    parser.add_argument("--compare", type=Path, help="An earlier snapshot folder to compare.")
    parser.add_argument("--no-bayes", action="store_true", help="Skip the Bayesian fit.")
    args = parser.parse_args()
    snapshot(args.out, bayes=not args.no_bayes)
    return compare(args.out, args.compare) if args.compare else 0


if __name__ == "__main__":
    sys.exit(main())
