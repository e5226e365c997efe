"""Make the Robyn JSON fixture with robynpy 0.3.6 (runs in a throwaway robynpy venv only).

Not a test and not part of mediamix: it documents how ``robyn_simulated_model.json``
and ``robyn_simulated_decomp.csv`` were made. Setup (see SOURCE.md)::

    apt-get install -y r-base-core r-cran-glmnet
    uv venv --python python3.11 /tmp/robynpy-venv
    RPY2_CFFI_MODE=ABI uv pip install --python /tmp/robynpy-venv/bin/python \
        "robynpy==0.3.6" "rpy2==3.5.16" "pandas<3"
    /tmp/robynpy-venv/bin/python tests/rlang/data/make_robyn_fixture.py

robynpy 0.3.6 has no ``robyn_write``: this script fits robynpy on Robyn's simulated
weekly data, picks R Robyn's usual model (Pareto front 1, lowest ``error_score``) and
writes that model in the layout of R Robyn's ``robyn_write`` (``R/R/json.R``: jsonlite
``write_json``, so scalars are length-1 arrays and data frames are arrays of rows).
Every number in the JSON is robynpy's own; only the layout is R Robyn's.
"""

import json
import logging
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import robyn  # noqa: E402
from robyn.data.entities.enums import AdstockType, DependentVarType  # noqa: E402
from robyn.data.entities.holidays_data import HolidaysData  # noqa: E402
from robyn.data.entities.hyperparameters import (  # noqa: E402
    ChannelHyperparameters,
    Hyperparameters,
)
from robyn.data.entities.mmmdata import MMMData  # noqa: E402
from robyn.modeling.entities.modelrun_trials_config import TrialsConfig  # noqa: E402
from robyn.robyn import Robyn  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SPENDS = ["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"]
CONTEXT = ["competitor_sales_B"]
RANGES = {"alphas": [0.5, 3.0], "gammas": [0.3, 1.0], "thetas": [0.0, 0.8]}
ITERATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WORK = Path("/tmp/robynpy-fixture")


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    data = pd.read_csv(ROOT / "datasets/robyn-simulated-weekly/dt_simulated_weekly.csv")
    data = data[["DATE", "revenue", *SPENDS, *CONTEXT]]
    holidays = pd.read_csv(
        Path(robyn.__file__).parent / "tutorials/resources/dt_prophet_holidays.csv"
    )
    r = Robyn(working_dir=str(WORK), console_log_level="WARNING", file_log_level="WARNING")
    spec = MMMData.MMMDataSpec(
        dep_var="revenue",
        dep_var_type=DependentVarType.REVENUE,
        date_var="DATE",
        context_vars=CONTEXT,
        paid_media_spends=SPENDS,
        paid_media_vars=SPENDS,
        organic_vars=[],
        window_start=data["DATE"].iloc[0],
        window_end=data["DATE"].iloc[-1],
    )
    hol = HolidaysData(
        dt_holidays=holidays, prophet_vars=[], prophet_country="US", prophet_signs=[]
    )
    hyper = Hyperparameters(
        {c: ChannelHyperparameters(**RANGES) for c in SPENDS},
        adstock=AdstockType.GEOMETRIC,
        lambda_=[0.0, 1.0],
    )
    r.initialize(
        mmm_data=MMMData(data=data, mmmdata_spec=spec), holidays_data=hol, hyperparameters=hyper
    )
    r.feature_engineering(display_plots=False)
    r.train_models(
        trials_config=TrialsConfig(trials=1, iterations=ITERATIONS), display_plots=False, cores=1
    )
    r.evaluate_models(
        pareto_config={"pareto_fronts": "auto", "min_candidates": 20}, display_plots=False
    )
    pareto = r.pareto_result
    hyp = pareto.result_hyp_param.drop_duplicates("sol_id")
    hyp = hyp[hyp["sol_id"].isin(pareto.x_decomp_agg["sol_id"].unique())]
    front1 = hyp[hyp["robynPareto"] == 1]
    chosen_row = (front1 if len(front1) else hyp).sort_values("error_score").iloc[0]
    chosen = str(chosen_row["sol_id"])
    agg = pareto.x_decomp_agg[pareto.x_decomp_agg["sol_id"] == chosen]
    summary = []
    for _, row in agg.iterrows():
        spend = row.get("total_spend", np.nan)
        summary.append(
            {
                "variable": str(row["rn"]),
                "coef": float(row["coef"]),
                "decompPer": float(row["xDecompPerc"]),
                "decompAgg": float(row["xDecompAgg"]),
                **(
                    {
                        "performance": float(row["roi_total"]),
                        "mean_response": float(row["mean_response"]),
                        "mean_spend": float(row["mean_spend"]),
                    }
                    if str(row["rn"]) in SPENDS and np.isfinite(spend)
                    else {}
                ),
            }
        )
    hyper_values = {}
    for c in SPENDS:
        for p in ("alphas", "gammas", "thetas"):
            hyper_values[f"{c}_{p}"] = [float(chosen_row[f"{c}_{p}"])]
    hyper_values["lambda"] = [float(chosen_row["lambda"])]
    hyper_values["train_size"] = [float(chosen_row.get("train_size", 1.0))]
    hyper_values = dict(sorted(hyper_values.items()))
    n = len(data)
    doc = {
        "InputCollect": {
            "date_var": ["DATE"],
            "dayInterval": [7],
            "intervalType": ["week"],
            "dep_var": ["revenue"],
            "dep_var_type": ["revenue"],
            "prophet_vars": [],
            "prophet_signs": [],
            "prophet_country": ["US"],
            "context_vars": CONTEXT,
            "context_signs": ["default"],
            "paid_media_vars": SPENDS,
            "paid_media_signs": ["positive"] * len(SPENDS),
            "paid_media_spends": SPENDS,
            "paid_media_selected": SPENDS,
            "exposure_vars": [],
            "organic_vars": [],
            "organic_signs": [],
            "all_media": SPENDS,
            "all_ind_vars": [*CONTEXT, *SPENDS],
            "factor_vars": [],
            "unused_vars": [],
            "window_start": [str(data["DATE"].iloc[0])],
            "rollingWindowStartWhich": [1],
            "window_end": [str(data["DATE"].iloc[-1])],
            "rollingWindowEndWhich": [n],
            "rollingWindowLength": [n],
            "totalObservations": [n],
            "refreshAddedStart": [str(data["DATE"].iloc[0])],
            "adstock": ["geometric"],
            "hyperparameters": {
                **{f"{c}_{p}": v for c in SPENDS for p, v in RANGES.items()},
                "lambda": [0, 1],
                "train_size": [0.5, 0.8],
            },
            "calibration_input": None,
            "custom_params": [],
            "version": ["robynpy 0.3.6 (layout of R Robyn robyn_write)"],
        },
        "ExportedModel": {
            "select_model": [chosen],
            "ts_validation": [False],
            "summary": summary,
            "errors": [
                {
                    "rsq_train": float(chosen_row["rsq_train"]),
                    "nrmse": float(chosen_row["nrmse"]),
                    "decomp.rssd": float(chosen_row["decomp.rssd"]),
                    "mape": float(chosen_row["mape"]),
                    "lambda": float(chosen_row["lambda"]),
                    "lambda_hp": float(chosen_row["lambda_hp"]),
                    "lambda_max": float(chosen_row["lambda_max"]),
                    "lambda_min_ratio": float(chosen_row["lambda_min_ratio"]),
                }
            ],
            "hyper_values": hyper_values,
            "hyper_updated": {k: v for k, v in doc_ranges().items()},
            "seed": [123],
            "iterations": [ITERATIONS],
            "trials": [1],
            "nevergrad_algo": ["TwoPointsDE"],
            "add_penalty_factor": [False],
        },
    }
    (HERE / "robyn_simulated_model.json").write_text(json.dumps(doc, indent=2) + "\n")
    vec = pareto.x_decomp_vec_collect
    vec = vec[vec["sol_id"] == chosen]
    vec.to_csv(HERE / "robyn_simulated_decomp.csv", index=False)
    print(chosen, json.dumps(doc["ExportedModel"]["errors"]))


def doc_ranges() -> dict:
    out = {f"{c}_{p}": v for c in SPENDS for p, v in RANGES.items()}
    out["lambda"] = [0, 1]
    return out


if __name__ == "__main__":
    main()
