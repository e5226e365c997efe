"""Spark as the engine of the same warehouse: a local session, the raw tables in it,
and the shipped dbt project run on dbt-spark (``method: session``).

When one machine's DuckDB is not enough, the transformations move to Spark without
a second copy of the SQL: the dbt project is the same, and where DuckDB and Spark
SQL differ it uses dbt's cross-database macros or ``adapter.dispatch`` (see
``dbt_project/macros``). The session method runs dbt inside this Python process on
the active :class:`pyspark.sql.SparkSession` (``getOrCreate``), so a session built
by :func:`local_session` (or a cluster's session, built by the caller) is the one
dbt uses.

Layout of a run (never inside the installed package)::

    <root>/project    the dbt project, copied (with the transform parameters)
    <root>/profiles   profiles.yml with one ``spark`` target, ``method: session``
    <root>/target, <root>/logs   dbt's own files

``pyspark`` and ``dbt`` are imported inside the functions: ``import mediamix``
stays free of them.

Examples
--------
The profile output dbt-spark gets (``schema`` is the Spark database of the raw
tables and of the models):

>>> spark_output()["method"], spark_output()["schema"]
('session', 'main')
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mediamix.errors import InputError
from mediamix.warehouse.store import RAW_TABLES, Warehouse
from mediamix.warehouse.transform import (
    TransformResult,
    invoke_dbt,
    prepare_project,
    raise_failure,
    transform_params_frame,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "SOURCE_TABLES",
    "SparkOptions",
    "copy_raw_tables",
    "local_session",
    "read_spark_table",
    "run_dbt_spark",
    "spark_output",
]

log = logging.getLogger(__name__)

#: The tables the dbt project reads (its ``raw`` source).
SOURCE_TABLES = ("load_log", *RAW_TABLES)


@dataclass(frozen=True)
class SparkOptions:
    """How :func:`local_session` builds a session on this machine.

    Parameters
    ----------
    master : str
        Spark master URL; ``local[N]`` runs N worker threads in one JVM.
    shuffle_partitions : int
        ``spark.sql.shuffle.partitions``. Spark's default (200) makes every
        aggregation of a small table schedule 200 tasks; a few per core is right for
        one machine.
    warehouse_dir : path, optional
        ``spark.sql.warehouse.dir``, where managed tables are written; Spark's
        default (``./spark-warehouse``) otherwise, so pass one.
    driver_memory : str
        ``spark.driver.memory`` (the JVM heap in local mode).
    app_name : str
        Application name shown in Spark's logs.
    """

    master: str = "local[2]"
    shuffle_partitions: int = 2
    warehouse_dir: Path | None = None
    driver_memory: str = "1g"
    app_name: str = "mediamix"


def local_session(options: SparkOptions | None = None) -> SparkSession:
    """A Spark session for one machine: UI off, few shuffle partitions, UTC.

    Returns the active session when one exists (Spark allows one per process; its
    static settings, such as the master, cannot change until it is stopped).

    Parameters
    ----------
    options : SparkOptions, optional
        Master, shuffle partitions, warehouse folder, driver memory.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    from pyspark.sql import SparkSession

    opts = options or SparkOptions()
    # Python workers (pandas UDFs) must run this interpreter, the one with mediamix
    # installed; pyspark reads only the environment for it, and falls back to python3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(opts.master)
        .appName(opts.app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(opts.shuffle_partitions))
        .config("spark.default.parallelism", str(opts.shuffle_partitions))
        .config("spark.driver.memory", opts.driver_memory)
        # timestamps without a zone (DuckDB's TIMESTAMP, loaded_at) read the same in both
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if opts.warehouse_dir is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(Path(opts.warehouse_dir)))
    started = time.perf_counter()
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    log.info("spark session %s ready in %.1f s", opts.master, time.perf_counter() - started)
    return session


def spark_output(schema: str = "main") -> dict[str, Any]:
    """The dbt-spark profile output: the session method on the active session.

    ``threads`` stays 1: the session method shares one session and dbt-spark does
    not support more threads on it.
    """
    return {"type": "spark", "method": "session", "schema": schema, "host": "NA", "threads": 1}


def copy_raw_tables(
    home: str | Path, spark: SparkSession, database: str = "main"
) -> dict[str, int]:
    """Copy the warehouse's raw tables and load log into Spark tables ``database.<name>``.

    The path a small warehouse takes to Spark; on a cluster the raw tables are
    usually Spark tables already (the landed Parquet files under ``raw/``), and this
    step is skipped. Column types are kept (Arrow carries DuckDB's dates and
    timestamps as they are). Returns the rows copied per table.

    Raises
    ------
    InputError
        There is no warehouse yet.
    """
    counts: dict[str, int] = {}
    spark.sql(f"create database if not exists {database}")
    with Warehouse.reader(home) as wh:
        for table in SOURCE_TABLES:
            arrow = wh.con.sql(f"select * from {table}").to_arrow_table()  # noqa: S608 -- table names are module constants
            frame = spark.createDataFrame(arrow)
            frame.write.mode("overwrite").saveAsTable(f"{database}.{table}")
            counts[table] = arrow.num_rows
    log.info("copied raw tables to spark: %s", counts)
    return counts


def run_dbt_spark(
    root: str | Path,
    *,
    command: str = "build",
    params: pd.DataFrame | str | Path | None = None,
    select: Sequence[str] = (),
    variables: Mapping[str, Any] | None = None,
    raise_on_failure: bool = True,
) -> TransformResult:
    """Run the shipped dbt project on the active Spark session (dbt-spark, session method).

    The raw tables must be in the Spark database ``main`` (:func:`copy_raw_tables`);
    the models are written there too. Builds the same models and runs the same data
    tests as :func:`~mediamix.warehouse.transform.run_dbt` on DuckDB.

    Parameters
    ----------
    root : path
        Folder for the project copy, the profile and dbt's target and logs (e.g.
        ``$MEDIAMIX_HOME/dbt-spark``).
    command : str
        dbt command (``build``, ``run``, ``test``, ``seed``).
    params : DataFrame or CSV path, optional
        Adstock/saturation parameters per channel, as for ``run_dbt``.
    select : sequence of str
        dbt ``--select`` arguments.
    variables : mapping, optional
        dbt ``--vars``.
    raise_on_failure : bool
        Raise when a model or test fails.

    Raises
    ------
    InputError
        A data test failed (the data break a rule of the marts).
    DbtRunError
        dbt could not run (compile error, crashed model).
    """
    root = Path(root)
    frame = transform_params_frame(params) if params is not None else None
    started = time.perf_counter()
    project, profiles = prepare_project(root, frame, spark_output())
    result = invoke_dbt(
        root, project, profiles, command, select, dict(variables) if variables else None
    )
    result = TransformResult(
        command=result.command,
        success=result.success,
        nodes=result.nodes,
        seconds=time.perf_counter() - started,
    )
    log.info("dbt-spark %s: %s in %.1f s", command, result.counts(), result.seconds)
    if raise_on_failure and not result.success:
        raise_failure(result)
    return result


def read_spark_table(spark: SparkSession, name: str, database: str = "main") -> pd.DataFrame:
    """A Spark table as a DataFrame, sorted like :func:`~mediamix.warehouse.transform.read_mart`.

    Raises
    ------
    InputError
        No such table in ``database``.
    """
    if not spark.catalog.tableExists(name, database):
        raise InputError.single(
            f"table '{name}' is not in the Spark database '{database}': run the dbt build first",
            file=f"spark:{database}",
        )
    from pyspark.sql import functions as F  # noqa: N812 -- Spark's own convention
    from pyspark.sql.types import DateType, DecimalType

    table = spark.table(f"{database}.{name}")
    # the dtypes read_mart gives: DuckDB hands decimals over as float64 and dates as
    # datetime64, Spark as Decimal and datetime.date objects
    table = table.select(
        *[
            F.col(f.name).cast("double") if isinstance(f.dataType, DecimalType) else F.col(f.name)
            for f in table.schema.fields
        ]
    )
    dates = [f.name for f in table.schema.fields if isinstance(f.dataType, DateType)]
    frame = table.toPandas()
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    keys = [c for c in ("week_start", "date_day", "geo", "channel", "platform") if c in frame]
    return frame.sort_values(keys or list(frame.columns)).reset_index(drop=True)
