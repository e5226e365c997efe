"""Process-wide jax settings for a fit: host devices per chain, float64, compile cache."""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["setup_jax", "use_compilation_cache"]

log = logging.getLogger(__name__)


def use_compilation_cache(path: str | None) -> None:
    """Point jax's persistent compilation cache at ``path`` (created private to the user)
    unless the process set one already; ``None``: leave jax as it is.

    Compiling the NUTS sampler is much of a small model's fit time
    (``benchmarks/results/bayes.md``), and a model of the same shapes and settings compiles to the
    same program, so later fits, in any process, load it instead. jax trusts its cache
    (a compiled program runs as code), so the directory is made mode 700 and must not be
    shared with other users.
    """
    import jax

    if path is None or jax.config.jax_compilation_cache_dir:  # type: ignore[attr-defined]
        return
    try:
        Path(path).mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # e.g. a read-only home: fit without the cache
        log.warning("no compilation cache at %s: %s", path, exc)
        return
    jax.config.update("jax_compilation_cache_dir", path)
    # every program, not only those that took over a second to compile: a fit compiles
    # dozens of small ones (initialization, summaries) besides the sampler
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def setup_jax(n_chains: int, compile_cache: str | None = None) -> str:
    """Ask for one host device per chain if jax has not started; returns the chain method.

    Also float64, and the persistent compilation cache in ``compile_cache``.
    """
    import jax
    import numpyro

    try:
        from jax._src import xla_bridge

        started = bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # private API moved: assume jax has started
        started = True
    if not started:
        numpyro.set_host_device_count(max(n_chains, 1))
    numpyro.enable_x64()
    use_compilation_cache(compile_cache)
    if n_chains > 1 and jax.local_device_count() >= n_chains:
        return "parallel"
    return "sequential"
