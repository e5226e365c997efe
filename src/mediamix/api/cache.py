"""Loaded models kept in memory per API process, so predictions do not reload them.

Loading a model checks every file's SHA-256 against its manifest, which costs far
more than a prediction. Entries are keyed by the model folder and its manifest's
modification time and size, so a replaced model is loaded again; the least recently
used entries are dropped beyond ``capacity``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ModelCache"]


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
