"""Job workers: processes that claim jobs from the SQL queue and run them.

A worker claims one job at a time with a lease, extends the lease from a heartbeat
thread while the job runs, writes progress from the same ``(fraction, message)``
callback the CLI's progress bar takes, and stops a job at its next progress step
when it is cancelled. Jobs run in worker processes, never in the API process, so
a long fit cannot slow ``/livez``. ``SIGTERM`` lets the current job finish, then
the worker exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from mediamix.api import usecases
from mediamix.api.config import ApiConfig
from mediamix.api.errors import problem_dict, relative_problems
from mediamix.errors import InputError
from mediamix.state import jobs
from mediamix.state.store import DatasetRecord, ModelRecord, StateStore, now

__all__ = [
    "JobCancelledError",
    "lower_priority",
    "run_job",
    "run_worker",
    "start_pool",
    "stop_pool",
    "sweep_partial",
    "take_back_lost_jobs",
]

log = logging.getLogger(__name__)

_PROGRESS_EVERY = 0.5  # seconds between progress writes


class JobCancelledError(Exception):
    """Raised from the progress callback when the job was cancelled."""


class _LeaseLostError(Exception):
    """Raised from the progress callback when another worker took the job over."""


def _execute(
    store: StateStore,
    config: ApiConfig,
    job: jobs.JobRecord,
    progress: Callable[[float, str], None],
) -> dict[str, Any]:
    runners = {"fit": _fit, "ingest": _ingest, "transform": _transform, "optimize": _optimize}
    if job.kind not in runners:
        raise InputError.single(f"unknown job kind '{job.kind}'", column="kind")
    return runners[job.kind](store, config, job, progress)


def _fit(
    store: StateStore,
    config: ApiConfig,
    job: jobs.JobRecord,
    progress: Callable[[float, str], None],
) -> dict[str, Any]:
    p = job.params
    spec = store.dataset_dir(job.tenant, p["dataset_id"]) / "spec.yaml"
    if not spec.is_file():
        raise InputError.single("the dataset of this fit was deleted", column="dataset_id")
    out = store.model_dir(job.tenant, p["model_id"])
    sweep_partial(store, job)
    request = {"engine": p["engine"], "seed": int(p["seed"])}
    if p.get("sampler"):
        request["sampler"] = p["sampler"]
    name = usecases.stored_model_name(job.tenant, p["model_id"])
    usecases.fit_model(spec, out, request, progress=progress, config=config, name=name)
    if store.get_model(job.tenant, p["model_id"]) is None:
        store.add_model(
            ModelRecord(p["model_id"], job.tenant, p["dataset_id"], p["engine"], job.id, now())
        )
    return {"model_id": p["model_id"]}


def _optimize(
    store: StateStore,
    config: ApiConfig,
    job: jobs.JobRecord,
    progress: Callable[[float, str], None],
) -> dict[str, Any]:
    model_id = job.params["model_id"]
    folder = store.model_dir(job.tenant, model_id)
    if store.get_model(job.tenant, model_id) is None or not usecases.ensure_model(
        folder, job.tenant, model_id, config
    ):
        raise InputError.single("the model was deleted", column="model_id")
    progress(0.1, "optimize: solving")
    return {"plan": usecases.optimize_model(folder, job.params["request"])}


def _ingest(
    store: StateStore,
    config: ApiConfig,
    job: jobs.JobRecord,
    progress: Callable[[float, str], None],
) -> dict[str, Any]:
    p = job.params
    record = store.get_dataset(job.tenant, p["dataset_id"])
    folder = store.dataset_dir(job.tenant, p["dataset_id"])
    if record is None or not folder.is_dir():
        raise InputError.single("the dataset was deleted", column="dataset_id")
    progress(0.1, "ingest: loading into the warehouse")
    load = usecases.ingest_dataset(
        store.warehouse_dir(job.tenant),
        folder / record.data_file,
        folder / "spec.yaml",
        p["account"],
        config,
    )
    return {"dataset_id": record.id, "load": load}


def _transform(
    store: StateStore,
    config: ApiConfig,
    job: jobs.JobRecord,
    progress: Callable[[float, str], None],
) -> dict[str, Any]:
    home = store.warehouse_dir(job.tenant)
    progress(0.1, "transform: dbt build")
    counts = usecases.transform_warehouse(home)
    result: dict[str, Any] = {"counts": counts}
    if job.params.get("export"):
        progress(0.8, "transform: exporting the mart as a dataset")
        result["dataset_id"] = _mart_dataset(store, config, job, home)
    return result


def _mart_dataset(store: StateStore, config: ApiConfig, job: jobs.JobRecord, home: Any) -> str:
    """The warehouse's mmm_weekly_input mart as a new dataset of the tenant."""
    dataset_id = str(job.params["dataset_id"])  # reserved when the job was queued
    final = store.dataset_dir(job.tenant, dataset_id)
    if store.get_dataset(job.tenant, dataset_id) is not None:
        return dataset_id  # a retried job whose first attempt got this far
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{dataset_id}.export")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        usecases.export_mart(home, tmp)
        data = tmp / "mmm_weekly_input.csv"
        checked = usecases.check_upload(tmp / "spec.yaml", data, config)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    store.add_dataset(
        DatasetRecord(
            id=dataset_id,
            tenant=job.tenant,
            data_file=data.name,
            bytes=(final / data.name).stat().st_size,
            n_periods=checked.n_periods,
            channels=checked.channels,
            created_at=now(),
        )
    )
    return dataset_id


def sweep_partial(store: StateStore, job: jobs.JobRecord) -> None:
    """Remove what a killed attempt of a fit job left half-written (its temporary folders).

    Fits write into a temporary sibling and move it in place at the end, so a
    killed fit leaves only ``.<model id>.*.tmp``; the model itself never exists half.
    """
    model_id = job.params.get("model_id")
    if job.kind != "fit" or not isinstance(model_id, str):
        return
    folder = store.model_dir(job.tenant, model_id)
    if folder.parent.is_dir():
        for partial in folder.parent.glob(f".{model_id}.*.tmp"):
            shutil.rmtree(partial, ignore_errors=True)


def take_back_lost_jobs(store: StateStore) -> list[tuple[str, str]]:
    """Re-queue or fail jobs whose worker died (by the retry rule); clean their leftovers."""
    taken = jobs.expire_leases(store.engine)
    for job_id, _state in taken:
        job = jobs.get_job(store.engine, job_id)
        if job is not None:
            sweep_partial(store, job)
    return taken


def run_job(store: StateStore, config: ApiConfig, claim: jobs.Claim) -> str:
    """Run a claimed job to its end; returns the state it ended in."""
    lease = config.api.lease_seconds
    flags = {"cancel": False, "lost": False}
    stop_beat = threading.Event()

    def beat() -> None:
        while not stop_beat.wait(min(lease / 3.0, 5.0)):
            owned, cancel = jobs.heartbeat(store.engine, claim, lease_seconds=lease)
            flags["lost"] = not owned
            flags["cancel"] = cancel
            if not owned:
                return

    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        if flags["lost"]:
            raise _LeaseLostError
        if flags["cancel"]:
            raise JobCancelledError
        t = time.monotonic()
        if t - last[0] >= _PROGRESS_EVERY or fraction >= 1.0:
            last[0] = t
            jobs.report_progress(store.engine, claim, fraction, message)

    job = claim.job
    thread = threading.Thread(target=beat, name=f"heartbeat-{job.id[:8]}", daemon=True)
    thread.start()
    state = "failed"
    error: dict[str, Any]
    try:
        result = _execute(store, config, job, progress)
        state = "succeeded"
        jobs.finish(store.engine, claim, state, result=result)
    except JobCancelledError:
        state = "cancelled"
        error = {"code": "cancelled", "message": "cancelled on request", "problems": []}
        jobs.finish(store.engine, claim, state, error=error)
    except _LeaseLostError:
        log.warning("job %s: lease lost to another worker; stopped", job.id)
        return "lost"
    except InputError as exc:
        problems = relative_problems(exc.problems, {})
        error = {
            "code": "invalid_input",
            "message": f"{len(problems)} problem(s) in the input",
            "problems": [problem_dict(p) for p in problems],
        }
        jobs.finish(store.engine, claim, state, error=error)
    except Exception:
        log.exception("job %s failed", job.id)
        error = {
            "code": "internal",
            "message": f"internal error in job {job.id}; the worker's log has the details",
            "problems": [],
        }
        jobs.finish(store.engine, claim, state, error=error)
    finally:
        stop_beat.set()
        thread.join()
    store.audit.append(
        action=f"job.{job.kind}", outcome=state, tenant=job.tenant, obj=f"job/{job.id}"
    )
    log.info("job %s: %s", job.id, state)
    return state


def run_worker(
    config: ApiConfig,
    *,
    stop: threading.Event | None = None,
    once: bool = False,
    poll: float = 0.5,
    name: str | None = None,
) -> int:
    """Claim and run jobs until ``stop`` is set (or, with ``once``, the queue is empty).

    Returns the number of jobs run.
    """
    stop = stop or threading.Event()
    store = StateStore(config.root, config.api.database_url, ca_bundle=config.tls_ca_bundle)
    worker = name or f"{socket.gethostname()}:{os.getpid()}"
    done = 0
    log.info("worker %s started", worker)
    while not stop.is_set():
        take_back_lost_jobs(store)
        claim = jobs.claim(store.engine, worker, lease_seconds=config.api.lease_seconds)
        if claim is None:
            if once:
                break
            stop.wait(poll)
            continue
        run_job(store, config, claim)
        done += 1
    store.engine.dispose()
    return done


def lower_priority(nice: int, idle: bool) -> None:
    """Lower the calling thread's CPU priority, and that of every thread and process it
    starts afterwards (they inherit it): Linux's ``SCHED_IDLE`` policy when ``idle``,
    and ``nice``.

    Workers share the cores of the API process: a fit must yield to requests. A
    niced thread still takes a share of the core in proportion to its weight, so a
    request can wait behind it for a scheduler slice; a ``SCHED_IDLE`` thread is
    preempted as soon as a normal thread wakes up, and a core running only such
    threads counts as free when a woken request handler is placed. It still
    progresses (with a minimal weight) when the machine is busy, so job heartbeats
    keep their lease. Where the policy is missing (not Linux) or refused, the nice
    value alone applies.
    """
    if idle:
        policy = getattr(os, "SCHED_IDLE", None)
        if policy is None or not hasattr(os, "sched_setscheduler"):
            log.info("SCHED_IDLE is not available here; job workers are only niced")
        else:
            try:
                os.sched_setscheduler(0, policy, os.sched_param(0))
            except OSError as exc:
                log.warning("could not lower the job worker to SCHED_IDLE (%s); niced only", exc)
    os.nice(nice)


def _process_main(config: ApiConfig, log_json: bool) -> None:
    # workers share the API's cores: their fits yield to requests
    lower_priority(config.api.worker_nice, config.api.worker_idle_priority)
    if log_json:
        from mediamix.api.logs import configure_json_logging

        configure_json_logging(logging.getLevelName(logging.getLogger().level) or "INFO")
    stop = threading.Event()
    # finish the current job, then leave
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_worker(config, stop=stop)


def start_pool(config: ApiConfig, n: int, *, log_json: bool = True) -> list[Any]:
    """Start ``n`` worker processes (spawned: no state shared with the API process)."""
    spawn = multiprocessing.get_context("spawn")
    pool = []
    for i in range(n):
        proc = spawn.Process(
            target=_process_main, args=(config, log_json), name=f"mediamix-worker-{i}"
        )
        proc.start()
        pool.append(proc)
    return pool


def stop_pool(pool: list[Any], grace: float = 30.0) -> None:
    """Ask workers to stop (SIGTERM), wait up to ``grace`` s, then kill the rest.

    A killed worker's job is taken back when its lease runs out.
    """
    for proc in pool:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in pool:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
