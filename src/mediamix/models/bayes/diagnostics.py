r"""Convergence diagnostics and plain-language warnings for posterior draws.

R-hat and ESS follow Vehtari et al. (2021), "Rank-normalization, folding, and
localization: an improved R-hat", as ArviZ computes them, built on
``numpyro.diagnostics.split_gelman_rubin`` and ``effective_sample_size``:

- R-hat: the larger of the split R-hat of the rank-normalized draws and of the
  rank-normalized folded draws :math:`|x - \mathrm{median}(x)|`;
- bulk ESS: ESS of the rank-normalized draws, chains split in halves;
- tail ESS: the smaller ESS of the indicators :math:`x \le q_{0.05}` and
  :math:`x \le q_{0.95}`, chains split in halves.

Thresholds: R-hat <= 1.01 and ESS >= 100 per chain (at least 400 in all), the
values Vehtari et al. recommend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["RHAT_MAX", "convergence_table", "convergence_warnings", "ess_bulk", "ess_tail", "rhat"]

RHAT_MAX = 1.01


def _split(x: np.ndarray) -> np.ndarray:
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def _rank_normalize(x: np.ndarray) -> np.ndarray:
    ranks = rankdata(x, axis=None).reshape(x.shape)
    return np.asarray(ndtri((ranks - 0.375) / (x.size + 0.25)))


def _ess(x: np.ndarray) -> float:
    from numpyro.diagnostics import effective_sample_size

    if np.ptp(x) == 0:
        return float("nan")
    return float(effective_sample_size(x))


def _rhat_raw(x: np.ndarray) -> float:
    from numpyro.diagnostics import split_gelman_rubin

    if np.ptp(x) == 0:
        return float("nan")
    return float(split_gelman_rubin(x))


def rhat(x: np.ndarray) -> float:
    """Rank-normalized, folded split R-hat of draws ``x`` of shape (chains, draws)."""
    bulk = _rhat_raw(_rank_normalize(x))
    folded = _rhat_raw(_rank_normalize(np.abs(x - np.median(x))))
    return float(np.nanmax([bulk, folded])) if np.isfinite([bulk, folded]).any() else float("nan")


def ess_bulk(x: np.ndarray) -> float:
    """Bulk effective sample size of draws ``x`` (chains, draws)."""
    return _ess(_rank_normalize(_split(x)))


def ess_tail(x: np.ndarray) -> float:
    """Tail effective sample size (5% and 95% quantile indicators) of ``x`` (chains, draws)."""
    s = _split(x)
    values = [_ess((s <= np.quantile(x, q)).astype(float)) for q in (0.05, 0.95)]
    finite = [v for v in values if np.isfinite(v)]
    return float(min(finite)) if finite else float("nan")


def convergence_table(
    samples: Mapping[str, np.ndarray], labels: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """R-hat and ESS for every scalar inside every site.

    Parameters
    ----------
    samples : mapping site -> ndarray (chains, draws, *shape)
    labels : mapping site -> element labels (e.g. channel names), optional per site

    Returns
    -------
    list of dict
        ``{"parameter": "alpha[tv]", "rhat": .., "ess_bulk": .., "ess_tail": ..}``.
    """
    rows: list[dict[str, Any]] = []
    for site, value in samples.items():
        arr = np.asarray(value, dtype=float)
        flat = arr.reshape(arr.shape[0], arr.shape[1], -1)
        names = list(labels.get(site, []))
        for j in range(flat.shape[2]):
            x = flat[:, :, j]
            if flat.shape[2] == 1 and arr.ndim == 2:
                label = site
            else:
                label = f"{site}[{names[j] if j < len(names) else j}]"
            rows.append(
                {
                    "parameter": label,
                    "rhat": rhat(x),
                    "ess_bulk": ess_bulk(x),
                    "ess_tail": ess_tail(x),
                }
            )
    return rows


def _hint(parameter: str) -> str:
    site = parameter.split("[", 1)[0]
    hints = {
        "alpha": "the carry-over of this channel is weakly identified; try a tighter "
        "adstock prior or more warmup",
        "shape": "the shape of the carry-over curve is weakly identified; try "
        "adstock='geometric' or a shorter l_max",
        "scale": "the length of the carry-over is weakly identified; try "
        "adstock='geometric' or a shorter l_max",
        "theta": "the delay of the peak effect is weakly identified; try adstock='geometric'",
        "half_saturation": "the saturation point is weakly identified (spend may vary too "
        "little); try a tighter half-saturation prior or a fixed slope",
        "slope": "the curve shape is weakly identified; try a tighter slope prior",
        "roi_scaled": "the ROI is weakly identified; give an ROI prior or a lift test",
        "beta": "the media effect is weakly identified; give an ROI prior or a lift test",
        "gamma": "a baseline term competes with media; check controls for collinearity",
    }
    return hints.get(site, "run more warmup and draws")


def convergence_warnings(
    table: Sequence[Mapping[str, Any]], *, n_chains: int, divergences: int, n_draws: int
) -> list[str]:
    """Plain-language warnings naming the parameter and what to try."""
    out: list[str] = []
    if divergences:
        share = divergences / max(n_draws, 1)
        out.append(
            f"{divergences} divergent transitions ({share:.1%} of draws): the sampler met "
            "regions it could not explore, so the posterior may be biased. Try "
            "target_accept=0.99, more informative priors on the parameters with the "
            "worst R-hat, or check the data for outliers."
        )
    min_ess = max(100 * n_chains, 100)
    bad_rhat = [r for r in table if np.isfinite(r["rhat"]) and r["rhat"] > RHAT_MAX]
    for r in sorted(bad_rhat, key=lambda r: -float(r["rhat"]))[:5]:
        out.append(
            f"R-hat of {r['parameter']} is {r['rhat']:.3f} (should be <= {RHAT_MAX}): the "
            f"chains disagree. Run more warmup and draws; {_hint(r['parameter'])}."
        )
    if n_chains < 2:
        out.append(
            "only one chain was run: R-hat cannot detect chains that disagree; "
            "use chains >= 2 for a final model."
        )
    low = [
        r
        for r in table
        if np.isfinite(r["ess_bulk"]) and min(r["ess_bulk"], r["ess_tail"]) < min_ess
    ]
    for r in sorted(low, key=lambda r: min(r["ess_bulk"], r["ess_tail"]))[:5]:
        out.append(
            f"effective sample size of {r['parameter']} is "
            f"{min(r['ess_bulk'], r['ess_tail']):.0f} (bulk {r['ess_bulk']:.0f}, tail "
            f"{r['ess_tail']:.0f}; want >= {min_ess}): its intervals are noisy. Run more "
            f"draws; {_hint(r['parameter'])}."
        )
    return out
