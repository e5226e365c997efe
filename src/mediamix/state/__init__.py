"""Persistent state of the API service: tenants' keys, datasets, models, jobs, audit.

A boundary package (files and a SQL database through SQLAlchemy). The API and the
``mediamix keys|worker|audit`` commands use it; it knows nothing of HTTP. SQLite in
WAL mode under ``MEDIAMIX_HOME`` is the embedded default; a PostgreSQL URL lets
several API replicas and workers on several machines share one job queue.
"""
