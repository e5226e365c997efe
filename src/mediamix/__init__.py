"""mediamix: media mix modeling, budget optimization and attribution.

The public Python API::

    import mediamix

    spec = mediamix.load_spec("spec.yaml")
    result = mediamix.fit(spec)                 # or a spec path, or a DataFrame + roles
    result.summary()                            # the summary.json document
    result.decompose()                          # per-period decomposition (DataFrame)
    result.response_curves()                    # tidy response curves (DataFrame)
    plan = mediamix.optimize(result, budget=1_000_000, constraints={...})
    plan.to_dict()                              # the plan.json document
    mediamix.attribute("paths.csv", method="markov")
    mediamix.load_model("fit-output/")
    mediamix.synth(seed=1)                      # data with known truth

Importing the package is cheap: it pulls in no web, tracking, database, JAX or
plotting stack. The names above are loaded on first use (module ``__getattr__``);
those stacks live behind the extras and are imported where used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; loaded on first attribute access
_LAZY = {
    "load_spec": "mediamix.service.public",
    "fit": "mediamix.service.public",
    "optimize": "mediamix.service.public",
    "optimize_weekly": "mediamix.service.public",
    "attribute": "mediamix.service.public",
    "load_model": "mediamix.service.public",
    "synth": "mediamix.service.public",
    "ModelSpec": "mediamix.data.spec",
    "FitResult": "mediamix.models.result",
    "Plan": "mediamix.optimization.solver",
    "InputError": "mediamix.errors",
    "Problem": "mediamix.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    # the table is resolved with importlib, not import statements, so that the
    # package root stays below every layer (lower layers import __version__ from it)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mediamix' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
