"""Prometheus metrics of one API process: request latency per route, jobs, model loads."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics"]


class _JobCollector(Collector):
    """Job counts by state, read from the database at scrape time."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("mediamix_jobs", "Jobs by state.", labels=["state"])
        for state, n in self.counts().items():
            family.add_metric([state], n)
        yield family


class Metrics:
    """A registry of its own (several apps may live in one process, as in tests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "mediamix_http_request_duration_seconds",
            "Request latency by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.model_load = Histogram(
            "mediamix_model_load_seconds",
            "Time to load a fitted model from its safe artifact.",
            registry=self.registry,
        )
        self._jobs: _JobCollector | None = None

    def watch_jobs(self, counts: Callable[[], dict[str, int]]) -> None:
        """Report job counts from ``counts()`` at every scrape."""
        if self._jobs is None:
            self._jobs = _JobCollector(counts)
            self.registry.register(self._jobs)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
