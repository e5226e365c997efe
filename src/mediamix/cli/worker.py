"""``mediamix worker``: job worker processes (beside the API, or on other machines)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

__all__ = ["worker_cmd"]


def worker_cmd(
    processes: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    once: Annotated[
        bool, typer.Option("--once", help="Run the queued jobs, then exit (one process).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="Log level of the JSON logs.")] = "INFO",
) -> None:
    """Run queued jobs (MEDIAMIX_API_DATABASE_URL names a shared database)."""
    from mediamix.api.config import load_config
    from mediamix.api.logs import configure_json_logging
    from mediamix.api.worker import run_worker, start_pool, stop_pool

    configure_json_logging(log_level)
    config = load_config()
    if once or processes == 1:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        run_worker(config, stop=stop, once=once)
        return
    pool = start_pool(config, processes)
    try:
        for proc in pool:
            proc.join()
    finally:
        stop_pool(pool)
