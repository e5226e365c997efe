"""Loaded models and authenticated keys kept in memory per API process, so requests
do not reload or look them up again.

Loading a model checks every file's SHA-256 against its manifest, which costs far
more than a prediction. Model entries are keyed by the model folder and its manifest's
modification time and size, so a replaced model is loaded again; the least recently
used entries are dropped beyond ``capacity``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["KeyCache", "ModelCache"]


class ModelCache:
    """A thread-safe LRU of loaded models.

    Examples
    --------
    >>> loads = []
    >>> cache = ModelCache(capacity=1, load=lambda folder: loads.append(folder) or str(folder))
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> cache.get(folder) == str(folder), cache.get(folder) == str(folder), len(loads)
    (True, True, 1)
    """

    def __init__(
        self,
        capacity: int,
        load: Callable[[Path], Any],
        on_load: Callable[[float], None] | None = None,
    ) -> None:
        self.capacity = capacity
        self._load = load
        self._on_load = on_load
        self._entries: OrderedDict[tuple[str, float, int], Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(folder: Path) -> tuple[str, float, int]:
        manifest = folder / "model" / "manifest.json"
        if not manifest.is_file():
            manifest = folder / "manifest.json"
        try:
            stat = manifest.stat()
        except OSError:  # missing: the load itself raises the clear error
            return (str(folder), 0.0, -1)
        return (str(folder), stat.st_mtime, stat.st_size)

    def peek(self, folder: Path) -> Any:
        """The model in ``folder`` if it is loaded and current, else ``None`` (no load).

        Cheap enough for the event loop: one ``stat`` and a dictionary lookup.
        """
        key = self._key(folder)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def get(self, folder: Path) -> Any:
        """The model in ``folder``, loaded on first use."""
        key = self._key(folder)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        start = time.perf_counter()
        model = self._load(folder)  # outside the lock: other models stay servable
        if self._on_load is not None:
            self._on_load(time.perf_counter() - start)
        with self._lock:
            for old in [k for k in self._entries if k[0] == key[0]]:
                del self._entries[old]
            self._entries[key] = model
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return model

    def forget(self, folder: Path) -> None:
        """Drop ``folder``'s model (it was deleted)."""
        with self._lock:
            for old in [k for k in self._entries if k[0] == str(folder)]:
                del self._entries[old]


class KeyCache:
    """Authenticated API keys remembered for ``ttl`` seconds, per API process.

    Authenticating reads the key's row from the database; a client sending many
    requests would pay that on each one. Entries are keyed by the SHA-256 of the
    presented key (the secret itself is not kept), hold only keys that
    authenticated, and expire ``ttl`` seconds after their lookup, so revoking a key
    takes effect in every API process within ``ttl`` seconds. ``ttl`` 0 disables
    the cache.

    Examples
    --------
    >>> cache = KeyCache(ttl=5.0)
    >>> cache.get("mmx_k", now=0.0) is None
    True
    >>> cache.put("mmx_k", "key", now=0.0)
    >>> cache.get("mmx_k", now=4.0), cache.get("mmx_k", now=5.0)
    ('key', None)
    """

    def __init__(
        self, ttl: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _digest(presented: str) -> str:
        return hashlib.sha256(presented.encode("utf-8")).hexdigest()

    def get(self, presented: str, now: float | None = None) -> Any:
        """The key remembered for ``presented``, or ``None`` (unknown or expired)."""
        if self.ttl <= 0:
            return None
        now = self.clock() if now is None else now
        digest = self._digest(presented)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, presented: str, key: Any, now: float | None = None) -> None:
        """Remember ``key`` as what ``presented`` authenticates to."""
        if self.ttl <= 0:
            return
        now = self.clock() if now is None else now
        with self._lock:
            digest = self._digest(presented)
            self._entries[digest] = (now + self.ttl, key)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
