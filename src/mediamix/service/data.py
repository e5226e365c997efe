"""Use case: read a spec and its data into a validated dataset."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.data.validation import ValidationReport, ValidationRules, validate_table
from mediamix.errors import InputError, Problem
from mediamix.io.spec import WAREHOUSE, read_spec
from mediamix.io.table import RawTable, ReadLimits, read_table

__all__ = ["LoadedData", "engine_rules", "load_dataset", "read_source", "validate_spec"]


@dataclass(frozen=True)
class LoadedData:
    """A spec with its validated dataset and the warnings validation raised."""

    spec: ModelSpec
    dataset: Dataset
    warnings: tuple[Problem, ...]


def engine_rules(spec: ModelSpec, engine: str) -> ValidationRules:
    """What an engine needs of the data (minimum periods, KPI sign)."""
    from mediamix.models.ridge import count_parameters

    return ValidationRules(
        min_periods=count_parameters(spec), require_positive_kpi=engine == "bayes"
    )


def read_source(
    spec: ModelSpec, *, limits: ReadLimits | None = None, home: str | Path | None = None
) -> RawTable:
    """The table a spec's ``data`` names: a file, or the warehouse mart.

    ``data: warehouse`` reads the ``mmm_weekly_input`` mart in the wide layout that
    ``mediamix transform --export`` writes (``date``, ``geo`` when there are several,
    the KPI, ``<channel>_spend``, ``<channel>_impressions``, one column per driver),
    so the exported spec with ``data: warehouse`` reads the mart directly.
    """
    if spec.data != WAREHOUSE:
        return read_table(spec.data, limits)
    if home is None:
        raise InputError.single(
            "data: warehouse needs the mediamix home (MEDIAMIX_HOME)", column="data"
        )
    from mediamix.service.transform import export_mmm_input

    with tempfile.TemporaryDirectory(prefix="mediamix-mart-") as tmp:
        exported = export_mmm_input(home, Path(tmp) / "export")
        table = read_table(exported.data, limits)
    return RawTable(
        frame=table.frame, source="warehouse:mmm_weekly_input", delimiter=table.delimiter
    )


def validate_spec(
    spec_path: str | Path,
    *,
    engine: str = "ridge",
    limits: ReadLimits | None = None,
    home: str | Path | None = None,
    for_fit: bool = True,
) -> tuple[ModelSpec, ValidationReport]:
    """Validate a spec and its data; every problem is in the report.

    Data problems are reported, not raised; spec and file problems raise
    :class:`InputError`. ``for_fit=False`` validates periods that a fitted model
    only evaluates (new periods to decompose): they need no minimum count, since
    nothing is estimated from them.
    """
    spec = read_spec(spec_path)
    table = read_source(spec, limits=limits, home=home)
    rules = engine_rules(spec, engine) if for_fit else ValidationRules(min_periods=1)
    report = validate_table(table.frame, spec, source=table.source, rules=rules)
    return spec, report


def load_dataset(
    spec_path: str | Path,
    *,
    engine: str = "ridge",
    limits: ReadLimits | None = None,
    home: str | Path | None = None,
    for_fit: bool = True,
) -> LoadedData:
    """Validated data for a spec, or :class:`InputError` with every problem.

    ``for_fit=False``: data a fitted model only evaluates (see :func:`validate_spec`).
    """
    spec, report = validate_spec(
        spec_path, engine=engine, limits=limits, home=home, for_fit=for_fit
    )
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    return LoadedData(spec=spec, dataset=report.dataset, warnings=report.warnings)
