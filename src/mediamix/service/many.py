"""Use case: fit one ridge model per group (brand x market x KPI, ...) of one table.

The table holds many series side by side: the spec's columns (date, KPI, spend,
controls) plus the grouping columns. Each group is validated against the spec and
fitted on its own; the result is one summary row per group and, for each, the usual
fit folder (``summary.json``, ``decomposition.csv``, ``model/``) under
``out/<column>=<value>/...``.

Two backends run the same per-group function, :func:`fit_group`:

* ``spark``: ``groupBy(...).applyInPandas`` on a Spark session (the caller's, or a
  local one); workers write the fit folders to the output storage, so on a cluster
  ``out`` must be a path every executor sees (a shared or mounted file system);
* ``local``: a process pool on this machine, used when pyspark is not installed
  (``auto``) or when asked.

All or nothing: every group writes into a temporary sibling of ``out``, which is
moved in place only when every group fitted. When a group's data break a rule, the
problems of every such group are raised together (each names the file, the group,
the row of the file and the column) and nothing is written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mediamix.data.spec import ModelSpec
from mediamix.data.validation import validate_table
from mediamix.errors import InputError, Problem
from mediamix.io.atomic import atomic_dir, atomic_write_text
from mediamix.io.spec import read_spec
from mediamix.io.table import ReadLimits, read_table
from mediamix.service.data import engine_rules

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ManyBackend", "ManyOptions", "ManyOutcome", "fit_group", "fit_many"]

log = logging.getLogger(__name__)

ROW_COLUMN = "__row"
_RESULT_FIELDS = ("group", "status", "document")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class ManyBackend(StrEnum):
    """Where the groups are fitted."""

    AUTO = "auto"
    SPARK = "spark"
    LOCAL = "local"


@dataclass(frozen=True)
class ManyOptions:
    """How :func:`fit_many` splits and fits.

    Parameters
    ----------
    group_by : tuple of str
        Columns of the table that name a group (e.g. ``("brand", "market", "kpi")``).
    backend : ManyBackend
        ``auto`` uses Spark when pyspark is installed, else the local pool.
    workers : int
        Processes of the local pool; Spark's parallelism comes from its master.
    seed : int
        Seed of every group's ridge search.
    candidates : int
        Candidates of each ridge search (small models need few).
    bootstrap : int
        Bootstrap draws behind each model's ROI intervals.
    spark_master : str
        Master of the local session built when no session is passed.

    Examples
    --------
    >>> ManyOptions(group_by=("brand", "market", "kpi"), backend=ManyBackend.LOCAL).workers
    2
    """

    group_by: tuple[str, ...]
    backend: ManyBackend = ManyBackend.AUTO
    workers: int = 2
    seed: int = 0
    candidates: int = 500
    bootstrap: int = 20
    spark_master: str = "local[2]"


@dataclass(frozen=True)
class ManyOutcome:
    """What :func:`fit_many` fitted: one summary row per group, and where."""

    out: Path
    summaries: pd.DataFrame
    backend: ManyBackend
    seconds: float


def _group_path(keys: Mapping[str, str]) -> str:
    """``col=value/...`` with characters outside ``[A-Za-z0-9._-]`` replaced."""
    return "/".join(f"{_SAFE.sub('_', k)}={_SAFE.sub('_', str(v)) or '_'}" for k, v in keys.items())


def _group_source(source: str, keys: Mapping[str, str]) -> str:
    return f"{source} [" + ", ".join(f"{k}={v}" for k, v in keys.items()) + "]"


def _file_rows(problem: Problem, rows: Sequence[int]) -> Problem:
    """The problem with its rows moved from the group's rows to the file's rows."""

    def row(r: int | None) -> int | None:
        return rows[r - 1] if r is not None and 1 <= r <= len(rows) else r

    return Problem(
        problem.message,
        file=problem.file,
        row=row(problem.row),
        column=problem.column,
        severity=problem.severity,
        rows=tuple(int(row(r) or r) for r in problem.rows),
    )


def fit_group(
    frame: pd.DataFrame,
    spec: ModelSpec,
    options: ManyOptions,
    *,
    source: str,
    staging: str,
) -> pd.DataFrame:
    """Validate and fit one group; write its fit folder under ``staging``.

    Returns one row (:data:`_RESULT_FIELDS`): the group's keys as JSON, its status
    (``fitted`` or ``bad_input``) and a JSON document (the summary fields, or the
    problems). Runs inside a Spark worker or a pool process, so it takes and returns
    plain frames and never raises for bad data.
    """
    from mediamix.models.ridge import RidgeOptions, fit_ridge
    from mediamix.service.fit import summary_document, write_fit

    started = time.perf_counter()
    keys = {c: str(frame[c].iloc[0]) for c in options.group_by}
    group_source = _group_source(source, keys)
    rows = [int(r) for r in frame[ROW_COLUMN]]
    data = frame.drop(columns=[*options.group_by, ROW_COLUMN]).reset_index(drop=True)
    report = validate_table(data, spec, source=group_source, rules=engine_rules(spec, "ridge"))
    if not report.ok or report.dataset is None:
        problems = [_file_rows(p, rows) for p in report.problems if p.severity == "error"]
        document: dict[str, Any] = {"problems": [dataclasses.asdict(p) for p in problems]}
        status = "bad_input"
    else:
        ridge = RidgeOptions(
            seed=options.seed, candidates=options.candidates, bootstrap=options.bootstrap
        )
        result = fit_ridge(report.dataset, spec, ridge)
        summary = summary_document(result, report.warnings)
        write_fit(result, Path(staging) / _group_path(keys), summary=summary)
        document = {
            "path": _group_path(keys),
            "n_periods": summary["n_periods"],
            "metrics": summary["metrics"],
            "roi": {c: v.get("roi") for c, v in summary["channels"].items()},
            "seconds": time.perf_counter() - started,
        }
        status = "fitted"
    return pd.DataFrame(
        [[json.dumps(keys), status, json.dumps(document, allow_nan=False, default=str)]],
        columns=list(_RESULT_FIELDS),
    )


def _local_pool(
    groups: list[pd.DataFrame], spec: ModelSpec, options: ManyOptions, source: str, staging: str
) -> list[pd.DataFrame]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if options.workers <= 1:
        return [fit_group(g, spec, options, source=source, staging=staging) for g in groups]
    # spawn, not fork: a forked child of a process running threads (BLAS, JVM) can hang
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=options.workers, mp_context=context) as pool:
        futures = [
            pool.submit(fit_group, g, spec, options, source=source, staging=staging) for g in groups
        ]
        return [f.result() for f in futures]


def _spark(
    spark: SparkSession,
    table: pd.DataFrame,
    spec: ModelSpec,
    options: ManyOptions,
    source: str,
    staging: str,
) -> list[pd.DataFrame]:
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField(name, StringType()) for name in _RESULT_FIELDS])
    # the cells travel as read (text for CSV), so each group validates as a file would
    frame = spark.createDataFrame(table)

    def one(group: pd.DataFrame) -> pd.DataFrame:
        return fit_group(group, spec, options, source=source, staging=staging)

    grouped = frame.groupBy(*options.group_by).applyInPandas(one, schema=schema)
    return [grouped.toPandas()]


def _resolve_backend(backend: ManyBackend, spark: SparkSession | None) -> ManyBackend:
    if backend != ManyBackend.AUTO:
        return backend
    if spark is not None:
        return ManyBackend.SPARK
    try:
        import pyspark  # noqa: F401 -- only whether it is installed
    except ImportError:
        return ManyBackend.LOCAL
    return ManyBackend.SPARK


def fit_many(
    spec_path: str | Path,
    out: str | Path,
    options: ManyOptions,
    *,
    spark: SparkSession | None = None,
    limits: ReadLimits | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> ManyOutcome:
    """Fit one ridge model per group of the spec's table and write them all, or nothing.

    Parameters
    ----------
    spec_path : path
        A model spec (YAML) whose ``data`` file also holds the ``group_by`` columns.
    out : path
        Output folder: ``summaries.csv`` (one row per group) and one fit folder per
        group at ``<column>=<value>/...``.
    options : ManyOptions
        Grouping columns, backend, workers, ridge search size.
    spark : SparkSession, optional
        Session of the Spark backend; a local one (``options.spark_master``) when
        none is passed.
    limits : ReadLimits, optional
        Bounds of the table reader.
    progress : callable, optional
        Called with (share done, message) at the start and the end.

    Returns
    -------
    ManyOutcome
        The summary table: group columns, ``status``, ``n_periods``, ``r2``,
        ``nrmse``, ``mape``, ``decomp_rssd``, ``roi_<channel>``, ``path``, ``seconds``.

    Raises
    ------
    InputError
        A grouping column is missing, or a group's data break a rule (every such
        group's problems, with the file's rows); nothing is written.
    """
    started = time.perf_counter()
    spec = read_spec(spec_path)
    raw = read_table(spec.data, limits)
    table = raw.frame
    missing = [c for c in options.group_by if c not in table.columns]
    if missing or not options.group_by:
        raise InputError(
            [
                Problem("grouping column is not in the file", file=raw.source, column=c)
                for c in missing
            ]
            or [Problem("name at least one grouping column", column="group_by")]
        )
    table = table.copy()
    table.insert(0, ROW_COLUMN, range(1, len(table) + 1))
    backend = _resolve_backend(options.backend, spark)
    n_groups = int(table.groupby(list(options.group_by), sort=False).ngroups)
    if progress:
        progress(0.0, f"fitting {n_groups} groups ({backend.value})")
    log.info("fit-many: %d groups on %s", n_groups, backend.value)
    out = Path(out)
    with atomic_dir(out) as tmp:
        staging = str(tmp.resolve())
        if backend == ManyBackend.SPARK:
            if spark is None:
                from mediamix.warehouse.spark import SparkOptions, local_session

                spark = local_session(
                    SparkOptions(
                        master=options.spark_master,
                        shuffle_partitions=max(2, options.workers),
                    )
                )
            parts = _spark(spark, table, spec, options, raw.source, staging)
        else:
            groups = [g for _, g in table.groupby(list(options.group_by), sort=True)]
            parts = _local_pool(groups, spec, options, raw.source, staging)
        results = pd.concat(parts, ignore_index=True)
        summaries, problems = _summaries(results, options.group_by)
        if problems:
            raise InputError(problems)
        atomic_write_text(tmp / "summaries.csv", summaries.to_csv(index=False))
    seconds = time.perf_counter() - started
    if progress:
        progress(1.0, f"fitted {len(summaries)} groups in {seconds:.1f} s")
    return ManyOutcome(out=out, summaries=summaries, backend=backend, seconds=seconds)


def _summaries(
    results: pd.DataFrame, group_by: Sequence[str]
) -> tuple[pd.DataFrame, list[Problem]]:
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for group, status, document in results[list(_RESULT_FIELDS)].itertuples(index=False):
        keys = json.loads(group)
        doc = json.loads(document)
        if status != "fitted":
            problems.extend(Problem(**{**p, "rows": tuple(p["rows"])}) for p in doc["problems"])
            continue
        row: dict[str, Any] = dict(keys)
        row.update(status=status, n_periods=doc["n_periods"])
        row.update({k: doc["metrics"].get(k) for k in ("r2", "nrmse", "mape", "decomp_rssd")})
        row.update({f"roi_{c}": v for c, v in doc["roi"].items()})
        row.update(path=doc["path"], seconds=round(float(doc["seconds"]), 3))
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values(list(group_by)).reset_index(drop=True)
    problems.sort(key=lambda p: (p.file or "", p.row or 0))
    return frame, problems
