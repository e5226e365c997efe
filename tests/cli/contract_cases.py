"""The command-line contract, recorded: exit codes, stderr and every file written.

Each case runs ``mediamix`` as a subprocess (the real entry point, with a fixed
terminal width) in a scratch folder and keeps what users and scripts rely on:
the exit code, stderr (progress bars excluded) and the files written
(``summary.json``, ``plan.json``, ``decomposition.csv``, attribution CSVs). Paths
are replaced by placeholders so that the record does not depend on where it ran.

``python tests/cli/contract_cases.py OUT`` writes the record of every case into
``OUT`` (one file per case); ``test_contracts.py`` compares the cheap cases with
the record kept in ``tests/cli/golden/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "datasets" / "pymc-marketing-mmm-example" / "mmm_example.csv"
MEDIAMIX = Path(sys.executable).parent / "mediamix"

SPEC = f"""data: {EXAMPLE}
date: date_week
kpi: y
kpi_type: revenue
channels:
  x1: {{spend: x1}}
  x2: {{spend: x2}}
events: [event_1, event_2]
seasonality: {{yearly: 2}}
"""

CURVES = {
    "channels": {
        "tv": {
            "beta": 200000.0,
            "saturation": {"type": "hill", "half_saturation": 50000.0, "slope": 1.5},
            "current_spend": 40000.0,
            "max": 90000.0,
        },
        "search": {
            "beta": 90000.0,
            "saturation": {"type": "logistic", "lam": 0.00004},
            "current_spend": 30000.0,
        },
    }
}

PATHS = (
    "path;total_conversions;total_conversion_value;total_null\n"
    "a > b > c;3;30.5;2\n"
    "b > c;2;12;4\n"
    "a;1;4;6\n"
    "c > a > b;2;8;1\n"
)

EVENTS = (
    "user_id,timestamp,channel,conversion,conversion_value\n"
    "u1,2024-01-01T10:00:00,search,0,0\n"
    "u1,2024-01-03T10:00:00,tv,0,0\n"
    "u1,2024-01-04T10:00:00,search,1,40\n"
    "u2,2024-01-02T10:00:00,social,0,0\n"
    "u2,2024-01-05T10:00:00,search,1,25\n"
    "u3,2024-01-02T10:00:00,tv,0,0\n"
)

FILES = {
    "spec.yaml": SPEC,
    "curves.json": json.dumps(CURVES),
    "what_if.yaml": "scenarios:\n  all_tv: {tv: 70000, search: 0}\n  even: {tv: 35000, search: 35000}\n",
    "cons.yaml": "channels:\n  x1: {min_ratio: 0.8, max_ratio: 1.5}\n  x2: {max: 60}\n",
    "cons_bad.yaml": "channels:\n  x1: {min: 100, max: 10}\n  x9: {max: 5}\n",
    "cons_unknown.yaml": "channels:\n  x1: {minimum: 1}\n",
    "weeks.yaml": "weeks:\n  x1: {max: [0, 0, 40, 40, 40, 40, 40, 40]}\n  x2: {min: 1, max: 30}\n",
    "weeks_bad.yaml": "weeks:\n  x1: {max: [1, 2]}\n",
    "weeks_other.yaml": "channels:\n  x1: {min: 1}\n",
    "paths.csv": PATHS,
    "events.csv": EVENTS,
    "bad.csv": "date_week,y,x1,x2,event_1,event_2\n2020-01-06,10,1,2,0,0\n2020-01-13,abc,1,2,0,0\n"
    "2020-01-20,12,$1,2,0,0\n2020-01-20,12,1,2,0,0\n",
    "bad_spec.yaml": SPEC.replace(str(EXAMPLE), "bad.csv"),
    "typo_spec.yaml": SPEC + "chanels: {}\n",
    "delivery.yaml": "slack:\n  - {name: team, webhook_env: MEDIAMIX_TEST_HOOK}\n",
    "delivery_bad.yaml": "email:\n  host: smtp.example.com\n  sender: a@b.c\n  recipients: []\n",
    "foreign_plan.json": json.dumps({"total_response": 1.0, "channels": {"radio": {"spend": 1.0}}}),
}


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    cheap: bool = True  # part of the regression test (no Bayesian fit)


CASES: tuple[Case, ...] = (
    Case(
        "fit_ridge",
        ("fit", "spec.yaml", "--out", "ridge"),
        ("ridge/summary.json", "ridge/decomposition.csv", "ridge/model/model.json"),
    ),
    Case(
        "fit_bayes_map",
        ("fit", "spec.yaml", "--out", "bayes", "--engine", "bayes", "--method", "map"),
        ("bayes/summary.json", "bayes/decomposition.csv"),
        cheap=False,
    ),
    Case("decompose", ("decompose", "ridge", "--out", "dec.csv"), ("dec.csv",)),
    Case(
        "optimize_constraints",
        (
            "optimize",
            "--model",
            "ridge",
            "--budget",
            "100",
            "--constraints",
            "cons.yaml",
            "--out",
            "plan.json",
        ),
        ("plan.json",),
    ),
    Case(
        "optimize_roi_periods",
        (
            "optimize",
            "--model",
            "ridge",
            "--budget",
            "30",
            "--periods",
            "13",
            "--objective",
            "roi",
            "--no-risk",
            "--out",
            "plan_roi.json",
        ),
        ("plan_roi.json",),
    ),
    Case(
        "optimize_weekly",
        (
            "optimize",
            "--model",
            "ridge",
            "--budget",
            "200",
            "--weekly",
            "--periods",
            "8",
            "--constraints",
            "weeks.yaml",
            "--out",
            "weekly.json",
        ),
        ("weekly.json",),
    ),
    Case(
        "optimize_curves_scenarios",
        (
            "optimize",
            "--curves",
            "curves.json",
            "--budget",
            "70000",
            "--scenarios",
            "what_if.yaml",
            "--out",
            "plan_curves.json",
        ),
        ("plan_curves.json",),
    ),
    Case(
        "optimize_curves_frontier",
        (
            "optimize",
            "--curves",
            "curves.json",
            "--budget",
            "50000",
            "--frontier",
            "--out",
            "plan_frontier.json",
        ),
        ("plan_frontier.json",),
    ),
    Case(
        "attribute_all_paths",
        ("attribute", "paths.csv", "--method", "all", "--out", "attr_paths.csv"),
        ("attr_paths.csv",),
    ),
    Case(
        "attribute_all_events",
        ("attribute", "events.csv", "--method", "all", "--out", "attr_events.csv"),
        ("attr_events.csv",),
    ),
    Case(
        "attribute_markov",
        (
            "attribute",
            "paths.csv",
            "--method",
            "markov",
            "--order",
            "2",
            "--out",
            "attr_markov.csv",
        ),
        ("attr_markov.csv",),
    ),
    Case("validate_ok", ("validate", "spec.yaml")),
    Case("validate_bad_file", ("validate", "bad_spec.yaml")),
    Case("validate_typo", ("validate", "typo_spec.yaml")),
    Case("fit_bad_file", ("fit", "bad_spec.yaml", "--out", "never")),
    Case("fit_unknown_engine", ("fit", "spec.yaml", "--out", "never", "--engine", "foo")),
    Case("fit_ridge_with_sampler", ("fit", "spec.yaml", "--out", "never", "--chains", "2")),
    Case("fit_ridge_geo_model", ("fit", "spec.yaml", "--out", "never", "--geo-model")),
    Case(
        "fit_bayes_bad_method",
        ("fit", "spec.yaml", "--out", "never", "--engine", "bayes", "--method", "hmc"),
    ),
    Case(
        "fit_bayes_bad_chains",
        ("fit", "spec.yaml", "--out", "never", "--engine", "bayes", "--chains", "0"),
    ),
    Case("validate_unknown_engine", ("validate", "spec.yaml", "--engine", "foo")),
    Case(
        "optimize_bad_constraints",
        (
            "optimize",
            "--model",
            "ridge",
            "--budget",
            "100",
            "--constraints",
            "cons_bad.yaml",
            "--out",
            "never.json",
        ),
    ),
    Case(
        "optimize_unknown_constraint_key",
        ("optimize", "--model", "ridge", "--budget", "100", "--constraints", "cons_unknown.yaml"),
    ),
    Case("optimize_bad_budget", ("optimize", "--curves", "curves.json", "--budget", "-5")),
    Case(
        "optimize_both_sources",
        ("optimize", "--curves", "curves.json", "--model", "ridge", "--budget", "5"),
    ),
    Case("optimize_no_source", ("optimize", "--budget", "5")),
    Case(
        "optimize_bad_periods", ("optimize", "--model", "ridge", "--budget", "5", "--periods", "0")
    ),
    Case(
        "optimize_bad_risk",
        ("optimize", "--model", "ridge", "--budget", "100", "--risk-level", "0.2"),
    ),
    Case(
        "optimize_weekly_bad",
        (
            "optimize",
            "--model",
            "ridge",
            "--budget",
            "200",
            "--weekly",
            "--periods",
            "8",
            "--constraints",
            "weeks_bad.yaml",
        ),
    ),
    Case(
        "optimize_weekly_other_keys",
        (
            "optimize",
            "--model",
            "ridge",
            "--budget",
            "200",
            "--weekly",
            "--periods",
            "8",
            "--constraints",
            "weeks_other.yaml",
        ),
    ),
    Case(
        "optimize_weekly_curves",
        ("optimize", "--curves", "curves.json", "--budget", "200", "--weekly"),
    ),
    Case(
        "optimize_weekly_roi",
        ("optimize", "--model", "ridge", "--budget", "200", "--weekly", "--objective", "roi"),
    ),
    Case(
        "optimize_weekly_bad_budget", ("optimize", "--model", "ridge", "--budget", "0", "--weekly")
    ),
    Case(
        "optimize_reach_model",
        ("optimize", "--model", "ridge", "--budget", "5", "--objective", "reach"),
    ),
    Case(
        "optimize_target_missing",
        ("optimize", "--curves", "curves.json", "--budget", "5000", "--objective", "target_roi"),
    ),
    Case(
        "attribute_bad_options",
        (
            "attribute",
            "paths.csv",
            "--method",
            "bogus",
            "--order",
            "0",
            "--half-life",
            "-1",
            "--lookback-days",
            "0",
        ),
    ),
    Case("attribute_mmm_without_decomposition", ("attribute", "paths.csv", "--method", "mmm")),
    Case("synth_bad_kpi_type", ("synth", "--out", "never", "--kpi-type", "sales")),
    Case("report_missing_model", ("report", "nope", "--out", "never.html")),
    Case(
        "report_foreign_plan",
        ("report", "ridge", "--plan", "foreign_plan.json", "--out", "never", "--pdf"),
    ),
    Case("report_send_not_a_report", ("report", "send", "ridge", "--config", "delivery.yaml")),
    Case("report_send_bad_config", ("report", "send", "ridge", "--config", "delivery_bad.yaml")),
)

_BAR = re.compile(r"^(fit \(|attributing).*$", re.MULTILINE)


def _clean(text: str, work: Path) -> str:
    text = text.replace(str(work.resolve()), "<work>").replace(str(work), "<work>")
    text = text.replace(str(REPO), "<repo>")
    return _BAR.sub("<progress>", text)


def run_case(case: Case, work: Path, home: Path) -> str:
    """The record of one case: exit code, stderr and the outputs it wrote."""
    # untracked fits: a tracked summary.json carries a new run id each time
    env = dict(
        os.environ,
        COLUMNS="200",
        MEDIAMIX_HOME=str(home),
        MEDIAMIX_TRACKING="false",
        NO_COLOR="1",
        TERM="dumb",
    )
    env.pop("MEDIAMIX_LOG_LEVEL", None)
    proc = subprocess.run(
        [str(MEDIAMIX), *case.args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    parts = [
        f"$ mediamix {' '.join(case.args)}",
        f"exit {proc.returncode}",
        "--- stderr",
        _clean(proc.stderr, work).rstrip(),
    ]
    for name in case.outputs:
        path = work / name
        parts.append(f"--- {name}")
        parts.append(_clean(path.read_text(), work).rstrip() if path.is_file() else "(missing)")
    for name in ("never", "never.json", "never.html"):
        if (work / name).exists():
            parts.append(f"--- {name} was written")
    return "\n".join(parts) + "\n"


def prepare(work: Path) -> None:
    """Write the input files of every case into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (work / name).write_text(text)


def record(
    work: Path, *, cheap_only: bool = False, log: Callable[[str], None] | None = None
) -> dict[str, str]:
    """Run every case in order (later cases read earlier outputs); name -> record."""
    prepare(work)
    home = work / "home"
    out: dict[str, str] = {}
    for case in CASES:
        if cheap_only and not case.cheap:
            continue
        if log is not None:
            log(case.name)
        out[case.name] = run_case(case, work, home)
    return out


def main(argv: list[str]) -> int:
    """``contract_cases.py OUT [--cheap]``: record every case (or the cheap ones) into OUT."""
    target = Path(argv[0])
    target.mkdir(parents=True, exist_ok=True)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mediamix-contract-") as tmp:
        records = record(
            Path(tmp) / "work", cheap_only="--cheap" in argv, log=lambda n: print(n, flush=True)
        )
    for name, text in records.items():
        (target / f"{name}.txt").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
