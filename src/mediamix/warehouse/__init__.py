"""The embedded warehouse: a DuckDB file under the mediamix home, and its dbt project.

:mod:`~mediamix.warehouse.layout` defines and validates the long layouts sources
land in, :mod:`~mediamix.warehouse.store` loads batches (one writer, one transaction
per load, idempotent upserts) and :mod:`~mediamix.warehouse.transform` runs the dbt
models that build the weekly MMM input. ``duckdb`` and ``dbt`` are imported inside
functions, so importing this package stays light.
"""
