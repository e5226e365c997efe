"""Per-process objects of the API (store, limiter, metrics, loaded models, authenticated
keys) and the current request id."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from mediamix.api.cache import KeyCache, ModelCache
from mediamix.api.config import ApiConfig
from mediamix.api.metrics import Metrics
from mediamix.api.ratelimit import RateLimiter
from mediamix.state.store import StateStore

__all__ = ["ApiContext", "current_request_id", "request_id_var"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mediamix_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being served (``None`` outside a request)."""
    return request_id_var.get()


@dataclass
class ApiContext:
    """What every request needs, built once per API process."""

    config: ApiConfig
    store: StateStore
    limiter: RateLimiter
    metrics: Metrics = field(default_factory=Metrics)
    models: ModelCache | None = None
    keys: KeyCache = field(init=False)

    def __post_init__(self) -> None:
        self.keys = KeyCache(self.config.api.key_cache_seconds)
        if self.models is None:
            from mediamix.api import usecases

            self.models = ModelCache(
                capacity=8, load=usecases.load_fitted, on_load=self.metrics.model_load.observe
            )
