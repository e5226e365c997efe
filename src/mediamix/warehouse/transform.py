"""Run the shipped dbt project against the warehouse, from Python (dbtRunner).

The project in ``mediamix/warehouse/dbt_project`` is never run in place: each run
copies it to ``$home/dbt/project`` (optionally with other transform parameters in
its seed), writes ``$home/dbt/profiles/profiles.yml``, and keeps dbt's target and
logs under ``$home/dbt``. The writer lock of the warehouse is held for the whole run.

A build is all or nothing: dbt runs on a copy of the warehouse file, which
replaces the warehouse (atomic rename) only when every model and data test passed.
A failed test, a crash or a kill leaves the warehouse as it was. A successful
build writes its lineage graph (from dbt's manifest) to ``$home/dbt/lineage.json``.

``dbt`` is imported inside :func:`run_dbt`: ``import mediamix`` stays free of it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mediamix.errors import InputError, MediamixError, Problem
from mediamix.io.atomic import atomic_write_text, fsync_dir
from mediamix.warehouse.crypto import (
    WarehouseKey,
    connect_database,
    current_key,
    dbt_attach,
    environment,
)
from mediamix.warehouse.lineage import export_dbt_graph
from mediamix.warehouse.store import DB_NAME, Warehouse, hold_lock, warehouse_path

__all__ = [
    "MARTS",
    "PARAM_COLUMNS",
    "PROJECT_DIR",
    "DbtRunError",
    "TransformResult",
    "duckdb_output",
    "invoke_dbt",
    "prepare_project",
    "raise_failure",
    "read_mart",
    "run_dbt",
    "transform_params_frame",
]

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).with_name("dbt_project")
MARTS = (
    "ad_reporting__campaign_report",
    "media_performance",
    "attribution_summary",
    "optimization_inputs",
    "mmm_weekly_input",
)
PARAM_COLUMNS = ("channel", "alpha", "l_max", "half_saturation", "slope")


class DbtRunError(MediamixError):
    """dbt itself failed (a compile error, a crashed model): an internal error."""


@dataclass(frozen=True)
class NodeResult:
    """One dbt node (model, seed, test) and how it ended."""

    name: str
    kind: str
    status: str
    message: str = ""
    failures: int = 0


@dataclass(frozen=True)
class TransformResult:
    """The outcome of a dbt run."""

    command: str
    success: bool
    nodes: tuple[NodeResult, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    @property
    def failed(self) -> tuple[NodeResult, ...]:
        """Nodes that ended in error or failure."""
        return tuple(n for n in self.nodes if n.status in {"error", "fail"})

    @property
    def warned(self) -> tuple[NodeResult, ...]:
        """Tests that warned."""
        return tuple(n for n in self.nodes if n.status == "warn")

    def counts(self) -> dict[str, int]:
        """Number of nodes per status."""
        out: dict[str, int] = {}
        for node in self.nodes:
            out[node.status] = out.get(node.status, 0) + 1
        return out


def transform_params_frame(params: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Transform parameters as a frame with :data:`PARAM_COLUMNS` (from CSV or a frame).

    Raises
    ------
    InputError
        A column is missing, or a value is out of range (alpha in [0, 1), l_max >= 1,
        half_saturation > 0 or empty, slope > 0).
    """
    source = str(params) if isinstance(params, str | Path) else "transform parameters"
    if isinstance(params, str | Path):
        path = Path(params)
        if not path.is_file():
            raise InputError.single(f"parameter file not found: {path}", file=source)
        frame = pd.read_csv(path)
    else:
        frame = params.copy()
    missing = [c for c in PARAM_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            [Problem(f"required column '{c}' is missing", file=source, column=c) for c in missing]
        )
    frame = frame[list(PARAM_COLUMNS)].copy()
    problems: list[Problem] = []
    numbers = {c: pd.to_numeric(frame[c], errors="coerce") for c in PARAM_COLUMNS[1:]}
    rules = {
        "alpha": ((numbers["alpha"] >= 0) & (numbers["alpha"] < 1), "a number in [0, 1)"),
        "l_max": (
            (numbers["l_max"] >= 1) & (numbers["l_max"] == numbers["l_max"].round()),
            "a whole number >= 1",
        ),
        "half_saturation": (
            numbers["half_saturation"].isna() | (numbers["half_saturation"] > 0),
            "a number > 0, or empty for the channel's mean adstocked spend",
        ),
        "slope": (numbers["slope"] > 0, "a number > 0"),
    }
    for column, (ok, expected) in rules.items():
        for position in [int(i) for i in (~ok.fillna(False)).to_numpy().nonzero()[0]]:
            problems.append(
                Problem(
                    f"found '{frame[column].iloc[position]}'; expected {expected}",
                    file=source,
                    row=position + 1,
                    column=column,
                )
            )
    if problems:
        raise InputError(problems)
    if not (frame["channel"] == "__default__").any():
        default = pd.read_csv(PROJECT_DIR / "seeds" / "media_transform_params.csv")
        frame = pd.concat([frame, default[default["channel"] == "__default__"]], ignore_index=True)
    return frame


def duckdb_output(
    database: Path, duckdb_threads: int = 1, attach: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The dbt-duckdb profile output for the warehouse file ``database``.

    ``attach`` holds the entries that open it (:func:`~mediamix.warehouse.crypto.dbt_attach`:
    the file itself, or an encrypted file attached with its key); default the file's path.
    """
    entries = attach if attach is not None else {"path": str(database.resolve())}
    return {
        "type": "duckdb",
        **entries,
        "schema": "main",
        "threads": 1,
        # one DuckDB thread: parallel float sums vary in the last bits
        # from run to run; one thread makes rebuilt tables identical
        "settings": {**entries.get("settings", {}), "threads": duckdb_threads},
    }


def prepare_project(
    root: Path, params: pd.DataFrame | None, output: dict[str, Any]
) -> tuple[Path, Path]:
    """Copy the project under ``root`` and write a profile whose one target is ``output``.

    Returns the project and profiles folders. The caller holds whatever lock keeps
    other processes from reading the copy while it is swapped.
    """
    root.mkdir(parents=True, exist_ok=True)
    project = root / "project"
    staging = Path(tempfile.mkdtemp(prefix=".project.", dir=root))
    try:
        shutil.copytree(PROJECT_DIR, staging / "project")
        if params is not None:
            params.to_csv(staging / "project" / "seeds" / "media_transform_params.csv", index=False)
        if project.exists():
            shutil.rmtree(project)
        (staging / "project").rename(project)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    profiles = root / "profiles"
    profile = {"mediamix": {"target": "warehouse", "outputs": {"warehouse": output}}}
    atomic_write_text(profiles / "profiles.yml", yaml.safe_dump(profile, sort_keys=False))
    return project, profiles


def run_dbt(
    home: str | Path,
    *,
    command: str = "build",
    params: pd.DataFrame | str | Path | None = None,
    select: Sequence[str] = (),
    variables: dict[str, Any] | None = None,
    raise_on_failure: bool = True,
    duckdb_threads: int = 1,
) -> TransformResult:
    """Run ``dbt <command>`` (build, run, test, seed, source freshness) on the warehouse.

    Parameters
    ----------
    home : path
        The mediamix home holding ``warehouse.duckdb``.
    command : str
        dbt command; ``source freshness`` checks how old the last load is.
    params : DataFrame or CSV path, optional
        Adstock/saturation parameters per channel (:data:`PARAM_COLUMNS`); the
        shipped seed (one ``__default__`` row) otherwise.
    select : sequence of str
        dbt ``--select`` arguments.
    variables : dict, optional
        dbt ``--vars`` (e.g. ``{"mmm_kpi": "revenue"}``).
    raise_on_failure : bool
        Raise when a model or test fails (default) instead of returning the result.
    duckdb_threads : int
        DuckDB worker threads. The default 1 makes rebuilt tables bit-identical
        (parallel float sums are not); more is faster on large warehouses.
    Raises
    ------
    InputError
        A data test failed (the data loaded breaks a rule of the marts), or there is
        no warehouse yet.
    DbtRunError
        dbt could not run (compile error, crashed model).
    BusyError
        Another process is writing the warehouse.
    """
    import time

    home = Path(home)
    if not warehouse_path(home).is_file():
        raise InputError.single(
            "no warehouse yet: load data first (mediamix ingest ...)",
            file=str(warehouse_path(home)),
        )
    frame = transform_params_frame(params) if params is not None else None
    started = time.perf_counter()
    writes = command.split()[0] in {"build", "run", "seed", "snapshot"}
    key = current_key()
    with hold_lock(home):
        live = warehouse_path(home)
        # dbt works on a copy that replaces the warehouse only when every model and
        # test passed: a failed build leaves the warehouse exactly as it was
        build = home / "dbt" / f"build.{DB_NAME}"
        attach, secret_env = dbt_attach(build, key)
        project, profiles = prepare_project(
            home / "dbt", frame, duckdb_output(build, duckdb_threads, attach)
        )
        _checkpoint(live, key)
        _remove_database(build)
        shutil.copyfile(live, build)
        try:
            with environment(secret_env):
                result = invoke_dbt(home / "dbt", project, profiles, command, select, variables)
            if writes and result.success:
                _checkpoint(build, key)
                with open(build, "rb") as handle:
                    os.fsync(handle.fileno())
                os.replace(build, live)
                fsync_dir(home)
                export_dbt_graph(home, home / "dbt" / "target" / "manifest.json")
        finally:
            _remove_database(build)
    result = TransformResult(
        command=result.command,
        success=result.success,
        nodes=result.nodes,
        seconds=time.perf_counter() - started,
    )
    log.info("dbt %s: %s in %.1f s", command, result.counts(), result.seconds)
    if raise_on_failure and not result.success:
        raise_failure(result)
    return result


def _checkpoint(path: Path, key: WarehouseKey | None) -> None:
    """Fold the write-ahead log into the database file, so the file alone is complete."""
    con = connect_database(path, key=key)
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _remove_database(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def invoke_dbt(
    root: Path,
    project: Path,
    profiles: Path,
    command: str,
    select: Sequence[str],
    variables: dict[str, Any] | None,
) -> TransformResult:
    from dbt.cli.main import dbtRunner

    args = [
        *command.split(),
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(profiles),
        "--target-path",
        str(root / "target"),
        "--log-path",
        str(root / "logs"),
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
        "--no-use-colors",
        "--quiet",
        "--log-level",
        "none",
        "--log-level-file",
        "debug",
    ]
    if command.split()[0] != "source":
        for item in select:
            args += ["--select", item]
    if variables:
        args += ["--vars", yaml.safe_dump(variables, default_flow_style=True).strip()]
    log.debug("dbt %s", " ".join(args))
    try:
        outcome = dbtRunner().invoke(args)
    finally:
        _release_duckdb()
    nodes: list[NodeResult] = []
    raw = outcome.result
    for item in getattr(raw, "results", None) or []:
        node = getattr(item, "node", None)
        status = str(getattr(item, "status", "")).lower().split(".")[-1]
        nodes.append(
            NodeResult(
                name=str(getattr(node, "name", getattr(node, "unique_id", "?"))),
                kind=str(getattr(node, "resource_type", "")).lower().split(".")[-1],
                status=status,
                message=str(getattr(item, "message", "") or ""),
                failures=int(getattr(item, "failures", 0) or 0),
            )
        )
    if outcome.exception is not None and not nodes:
        raise DbtRunError(f"dbt {command} could not run: {outcome.exception}")
    return TransformResult(command=command, success=bool(outcome.success), nodes=tuple(nodes))


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one environment (and its open database) per process; left
    open, it would keep the warehouse file busy for this process's later readers.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - the warehouse extra is missing
        return
    manager: Any = DuckDBConnectionManager
    with manager._LOCK:
        env = manager._ENV
        if env is not None:
            try:
                env.close()
            except Exception:  # closing is best effort; the next run recreates it
                log.debug("could not close the dbt-duckdb environment", exc_info=True)
            manager._ENV = None


def raise_failure(result: TransformResult) -> None:
    tests = [n for n in result.failed if n.kind == "test" and n.status == "fail"]
    others = [n for n in result.failed if n not in tests]
    if others:
        listed = "; ".join(f"{n.kind} {n.name}: {n.message}" for n in others)
        raise DbtRunError(f"dbt {result.command} failed: {listed}")
    raise InputError(
        [
            Problem(
                f"data test {n.name} failed ({n.failures} offending row(s)): "
                + _hint(n.name)
                + "; the warehouse was left as it was",
                file="warehouse",
                column=n.name,
            )
            for n in tests
        ]
    )


_HINTS = {
    "no_missing_weeks": "weeks are missing between the first and last week of a geo and "
    "channel; load the missing period",
    "unique_grain": "two rows share one grain (see the test name for the columns)",
    "non_negative": "negative values where only values >= 0 make sense",
    "accepted_values": "a value outside the accepted list (for n_currencies: one channel "
    "is reported in several currencies)",
    "not_null": "empty values where a value is required",
    "relationships": "a value with no match in the model it refers to",
}


def _hint(test_name: str) -> str:
    for prefix, hint in _HINTS.items():
        if test_name.startswith(prefix):
            return hint
    return "the data loaded breaks a rule of the warehouse models"


def read_mart(home: str | Path, name: str, *, key: WarehouseKey | None = None) -> pd.DataFrame:
    """A mart (or any table) of the warehouse as a DataFrame, in a stable order.

    Raises
    ------
    InputError
        No warehouse, or no such table (run ``mediamix transform`` first).
    """
    with Warehouse.reader(home, key=key) as wh:
        if name not in wh.tables():
            raise InputError.single(
                f"table '{name}' is not in the warehouse: run mediamix transform first",
                file=str(wh.path),
            )
        frame = wh.query(f'select * from "{name}"')  # noqa: S608 -- name was checked against the warehouse tables
    keys = [c for c in ("week_start", "date_day", "geo", "channel", "platform") if c in frame]
    return frame.sort_values(keys or list(frame.columns)).reset_index(drop=True)
