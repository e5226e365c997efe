"""Rate limits per API key: a token bucket in the API process's memory.

Each key gets ``burst`` tokens that refill at ``per_minute / 60`` per second; a
request takes one. An empty bucket answers how many seconds until the next token
(the ``Retry-After`` of the 429). With several API processes each keeps its own
buckets, so the effective limit is per process.
"""

from __future__ import annotations

import math
import threading
import time

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets keyed by API key id.

    Examples
    --------
    >>> limiter = RateLimiter(per_minute=60, burst=2)
    >>> limiter.take("k", now=0.0), limiter.take("k", now=0.0), limiter.take("k", now=0.0)
    (0, 0, 1)
    >>> limiter.take("k", now=1.0)
    0
    """

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = max(per_minute, 1) / 60.0
        self.burst = max(burst, 1)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> int:
        """Take a token for ``key``: 0 when allowed, else seconds to wait (at least 1)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))
