"""What a ridge fit records about its search: the Pareto table, clusters, selection.

``info`` of a ridge :class:`~mediamix.models.result.FitResult` (and so of its
``summary.json``): the chosen candidate's penalty, validation window and objectives,
the selection rule with its reason, the search's settings, the clusters of the
Pareto front and the front itself (best in-sample fit first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mediamix.models.search import SearchResult

if TYPE_CHECKING:
    from mediamix.models.ridge import Prepared, RidgeOptions

__all__ = ["pareto_table", "search_info"]


def pareto_table(prep: Prepared, search: SearchResult, max_rows: int = 100) -> list[dict[str, Any]]:
    """Pareto-front models, best in-sample fit first: objectives, cluster, ROI per channel.

    At most ``max_rows`` rows (the recommended model is always listed when it is on
    the front); ``info["search"]["front_size"]`` gives the full count.
    """
    s = search.scores
    idx = np.flatnonzero(search.front)
    idx = idx[np.argsort(s.nrmse_train[idx], kind="stable")]
    keep = list(idx[:max_rows])
    if search.front[search.chosen] and search.chosen not in keep:
        keep.append(search.chosen)
    spend = prep.problem.spend.sum(axis=0)
    rows = []
    for i in keep:
        roi = s.effects[i] * prep.scale_y / np.where(spend > 0, spend, np.nan)
        rows.append(
            {
                "candidate": int(i),
                "cluster": int(search.clusters[i]),
                "nrmse_val": float(s.nrmse_val[i]),
                "nrmse_train": float(s.nrmse_train[i]),
                "decomp_rssd": float(s.decomp_rssd[i]),
                "mape_lift": float(s.mape_lift[i]) if search.with_lift else None,
                "lambda": float(search.candidates.lam[i]),
                "roi": {
                    ch: (float(r) if np.isfinite(r) else None)
                    for ch, r in zip(prep.data.channels, roi, strict=True)
                },
                "recommended": bool(i == search.chosen),
            }
        )
    return rows


def _cluster_summary(prep: Prepared, search: SearchResult) -> dict[str, Any]:
    """Per cluster of the front: size and mean ROI per channel."""
    spend = prep.problem.spend.sum(axis=0)
    out: dict[str, Any] = {}
    for label in np.unique(search.clusters[search.front]):
        members = np.flatnonzero(search.front & (search.clusters == label))
        roi = search.scores.effects[members].mean(axis=0) * prep.scale_y
        roi = roi / np.where(spend > 0, spend, np.nan)
        out[str(int(label))] = {
            "size": int(members.size),
            "mean_roi": {
                ch: (float(r) if np.isfinite(r) else None)
                for ch, r in zip(prep.data.channels, roi, strict=True)
            },
        }
    return out


def search_info(prep: Prepared, search: SearchResult, options: RidgeOptions) -> dict[str, Any]:
    """The ``info`` of a ridge fit (the ensemble and response curves are added by the fit)."""
    s = search.scores
    i = search.chosen
    cut = int(prep.problem.cuts(search.candidates.val_share[i : i + 1])[0])
    table = pareto_table(prep, search)
    clusters = _cluster_summary(prep, search)
    return {
        "lambda": float(search.candidates.lam[i]),
        "holdout_nrmse": float(s.nrmse_val[i]),
        "val_share": float(search.candidates.val_share[i]),
        "validation_start": str(prep.data.dates[cut]) if cut < prep.data.n_periods else None,
        "objectives": {
            "nrmse_val": float(s.nrmse_val[i]),
            "nrmse_train": float(s.nrmse_train[i]),
            "decomp_rssd": float(s.decomp_rssd[i]),
            "mape_lift": float(s.mape_lift[i]) if search.with_lift else None,
        },
        "selection": {
            "rule": search.rule,
            "reason": search.reason,
            "candidate": int(i),
            "on_pareto_front": bool(search.front[i]),
            "cluster": int(search.clusters[i]) if search.front[i] else None,
        },
        "search": {
            "optimizer": (
                options.optimizer
                if isinstance(options.optimizer, str)
                else getattr(options.optimizer, "__name__", "custom")
            ),
            "candidates": len(search.u),
            "batch": options.batch,
            "seed": options.seed,
            "val_share_bounds": list(options.val_share),
            "front_size": int(search.front.sum()),
        },
        "clusters": clusters,
        "pareto": table,
        "yearly_harmonics": prep.yearly,
    }
