"""Use case: read a spec and its data into a validated dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.data.validation import ValidationReport, ValidationRules, validate_table
from mediamix.errors import InputError, Problem
from mediamix.io.spec import read_spec
from mediamix.io.table import ReadLimits, read_table

__all__ = ["LoadedData", "engine_rules", "load_dataset", "validate_spec"]


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


def validate_spec(
    spec_path: str | Path, *, engine: str = "ridge", limits: ReadLimits | None = None
) -> tuple[ModelSpec, ValidationReport]:
    """Validate a spec and its data; every problem is in the report (nothing raised
    for data problems). Spec and file problems raise :class:`InputError`."""
    spec = read_spec(spec_path)
    table = read_table(spec.data, limits)
    report = validate_table(
        table.frame, spec, source=table.source, rules=engine_rules(spec, engine)
    )
    return spec, report


def load_dataset(
    spec_path: str | Path, *, engine: str = "ridge", limits: ReadLimits | None = None
) -> LoadedData:
    """Validated data for a spec, or :class:`InputError` with every problem."""
    spec, report = validate_spec(spec_path, engine=engine, limits=limits)
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    return LoadedData(spec=spec, dataset=report.dataset, warnings=report.warnings)
