"""Airflow 3 DAGs of the scheduled path: a shell over :mod:`mediamix.service`, like the CLI.

The DAG files live in the ``dags/`` folder of this package (:func:`dags_path`, printed
by ``mediamix airflow dags-path``): point Airflow's ``dags_folder`` at it, or add it
to a DAG bundle. Importing this package does not import Airflow; only the DAG files
and :mod:`mediamix.orchestration.runtime` do.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["dags_path"]


def dags_path() -> Path:
    """The folder holding the three DAG files (``mediamix_ingest``, ``_train``, ``_optimize``).

    Examples
    --------
    >>> sorted(p.name for p in dags_path().glob("mediamix_*.py"))
    ['mediamix_ingest.py', 'mediamix_optimize.py', 'mediamix_train.py']
    """
    return Path(__file__).resolve().parent / "dags"
