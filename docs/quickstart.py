# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # mediamix quickstart
#
# From data to a budget decision in one sitting: generate weekly marketing data
# whose truth we know, fit a media mix model, read its summary and charts, ask the
# optimizer for a better split of the same budget, and attribute conversions from
# customer journeys.
#
# This file is a [jupytext](https://jupytext.readthedocs.io) notebook in the
# "percent" format: open it in Jupyter (with jupytext installed, as in
# `make install`), convert it with `jupytext --to notebook docs/quickstart.py`, or
# run it as a script. It writes only into a temporary folder and takes about a
# minute on a laptop.

# %%
# %matplotlib inline
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import mediamix
from mediamix.reporting import plots

pd.set_option("display.float_format", "{:,.2f}".format)
work = Path(tempfile.mkdtemp(prefix="mediamix-quickstart-"))

# %% [markdown]
# ## 1. Data with known truth
#
# `mediamix.synth` makes two years of weekly data for three paid channels (spend
# per channel, a revenue KPI, a price control, trend, seasonality and events), with
# `out=` also writes it as `synth.csv` beside a `spec.yaml` that describes the
# columns, and keeps the truth: the contribution and ROI each channel really had.
# Real data comes in the same way, through a spec file or a DataFrame (see
# `docs/formats.md`).

# %%
synthetic = mediamix.synth(out=work / "data", seed=1, weeks=104, channels=3)
spec_path = work / "data" / "spec.yaml"
print(spec_path.read_text())
synthetic.frame.head()

# %% [markdown]
# ## 2. Fit a model
#
# The ridge engine searches adstock and saturation parameters per channel and keeps
# the model that fits best without implausible decompositions. `fit` validates the
# data first (every problem names its file, row and column). It takes a spec file,
# as here, or a DataFrame with the roles named:
# `mediamix.fit(frame, date="date", kpi="revenue", channels={"tv": "tv_spend"})`.

# %%
result = mediamix.fit(spec_path, seed=0)
summary = result.summary()
pd.DataFrame(summary["metrics"], index=["fit"])

# %% [markdown]
# ## 3. What each channel brought
#
# `summary()` is the `summary.json` document. Next to it, the true ROI of the
# simulation: on real data this column does not exist, which is why the model
# reports an interval.

# %%
table = pd.DataFrame(summary["channels"]).T[
    ["spend", "contribution", "contribution_share", "roi", "roi_interval", "mroi"]
]
table["true_roi"] = [synthetic.truth["channels"][c]["roi"] for c in table.index]
table

# %% [markdown]
# ## 4. Decomposition
#
# The KPI per week split into baseline and channel contributions; the lower panel
# shows where the fitted KPI misses the actual one. `decompose()` is the table
# behind it (`decomposition.csv`): the components of each row sum to `fitted`.

# %%
result.decompose().head()

# %%
plots.plot_decomposition(result)

# %%
plots.plot_contributions(result)

# %% [markdown]
# ## 5. Return on investment
#
# ROI per channel with its 90% interval (for the ridge engine, a bootstrap); the
# dashed line is break-even.

# %%
plots.plot_roi(result)

# %% [markdown]
# ## 6. Response curves
#
# Each channel's expected response to its total spend over the window, with the
# current spend marked. Where a curve flattens, more money buys little.
# `response_curves()` is the tidy table behind the chart.

# %%
curves = result.response_curves()
curves.head()

# %%
plots.plot_response_curves(curves, current=result)

# %% [markdown]
# ## 7. A better split of the same budget
#
# The optimizer maximizes expected revenue for the current total budget. It then
# checks the plan against the current mix across the model's uncertainty and
# recommends only a move that beats it in 90% of the draws; `notes` say what it
# decided and why. By default every channel stays within 30% of its current spend;
# the exact optimum without that band is in `optimum_without_band`. `to_dict()` is
# the `plan.json` document. Constraints (bounds, ratios, groups, `band`) go in
# `constraints=`, as a dict or a YAML file.

# %%
budget = sum(channel["spend"] for channel in summary["channels"].values())
plan = mediamix.optimize(result, budget=budget)
document = plan.to_dict()
print(document["status"], "-", " ".join(document.get("notes", [])))
pd.DataFrame(document["channels"]).T

# %%
plots.plot_budget_shift(plan, current=result)

# %%
plots.plot_response_curves(curves, current=result, plan=plan)

# %% [markdown]
# ## 8. Attribution from customer journeys
#
# Multi-touch attribution works on journeys: aggregated paths (`path`,
# `total_conversions`, `total_null`, steps separated by `>`) or an event log. We
# simulate a small path file in which search closes most conversions and display
# mostly opens journeys, then compare a rule (last touch) with the data-driven
# Markov and Shapley methods.

# %%
rng = np.random.default_rng(7)
rows = []
for _ in range(400):
    path = list(rng.choice(["display", "social", "search"], size=rng.integers(1, 4)))
    converts = rng.random() < 0.08 + 0.25 * ("search" in path) + 0.1 * (path[0] == "display")
    rows.append((" > ".join(path), int(converts), int(not converts)))
paths = pd.DataFrame(rows, columns=["path", "total_conversions", "total_null"])
paths = paths.groupby("path", as_index=False).sum()
paths.to_csv(work / "paths.csv", index=False)

mediamix.attribute(work / "paths.csv", method="all")[
    ["channel", "last_touch_conversions", "markov_conversions", "shapley_conversions"]
]

# %% [markdown]
# ## Where next
#
# - `docs/python-api.md`: every public function with examples.
# - `docs/cli.md`: the same steps from the command line (`mediamix fit`,
#   `mediamix optimize`, `mediamix attribute`, `mediamix report`).
# - `docs/formats.md`: the spec, summary.json, plan.json and the other files.

# %%
print(f"outputs in {work}")
