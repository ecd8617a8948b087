"""The figures `/api/v1/metrics` shows, in Prometheus' text format.

Two sources. Requests are counted in this process (`RequestMetrics`, fed by
`RequestLog`), each series labelled with the process (`host:pid`), so that several
server processes never overwrite each other's counts: sum over `process` for the site.
Everything else is read from the database at scrape time (`actions.metrics`), so it is
whole across processes and workers whichever process answers.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from masthead.actions.metrics import Figures
from masthead.domain.receipts import ReceiptState
from masthead.web.render_cache import RenderCache

__all__ = ["CONTENT_TYPE", "UNMATCHED", "RequestMetrics", "exposition"]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
UNMATCHED = "unmatched"
"""The route label of a request no route matched (so unknown paths add no series)."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OUTCOMES = (ReceiptState.VERIFIED.value, ReceiptState.UNVERIFIED.value)


class RequestMetrics:
    """This process's request counts and latencies, by method, route pattern and status."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.process = f"{socket.gethostname()}:{os.getpid()}"
        labels = ("method", "route", "status", "process")
        self.requests = Counter(
            "masthead_http_requests",
            "HTTP requests answered, by method, route pattern and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "masthead_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route pattern and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch_cache(self, cache: RenderCache) -> None:
        """Show the render cache's hits, misses and size with this process's figures."""
        self.registry.register(_CacheCollector(cache, self.process))

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        labels = (method, route or UNMATCHED, str(status), self.process)
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class _CacheCollector(Collector):
    def __init__(self, cache: RenderCache, process: str) -> None:
        self.cache, self.process = cache, process

    def collect(self) -> Iterator[Metric]:
        labels = ("process",)
        counts = (
            ("masthead_render_cache_hits", "Public pages answered from the render cache."),
            (
                "masthead_render_cache_misses",
                "Public pages rendered because the cache lacked them.",
            ),
        )
        for (name, text), value in zip(counts, (self.cache.hits, self.cache.misses), strict=True):
            family = CounterMetricFamily(name, text, labels=labels)
            family.add_metric((self.process,), value)
            yield family
        size = GaugeMetricFamily(
            "masthead_render_cache_bytes", "Bytes the render cache holds.", labels=labels
        )
        size.add_metric((self.process,), self.cache.bytes)
        yield size
        entries = GaugeMetricFamily(
            "masthead_render_cache_entries", "Pages the render cache holds.", labels=labels
        )
        entries.add_metric((self.process,), len(self.cache))
        yield entries


class _FiguresCollector(Collector):
    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        yield _publishes(figures)
        yield _verifications(figures)
        runs = CounterMetricFamily(
            "masthead_task_runs",
            "Finished task runs, by kind and outcome.",
            labels=("kind", "outcome"),
        )
        for (kind, outcome), count in sorted(figures.runs.items()):
            runs.add_metric((kind, outcome), count)
        yield runs
        depth = GaugeMetricFamily(
            "masthead_queue_depth",
            "Tasks queued or running, by kind and state.",
            labels=("kind", "state"),
        )
        for (kind, state), count in sorted(figures.pending.items()):
            depth.add_metric((kind, state), count)
        yield depth
        yield GaugeMetricFamily(
            "masthead_task_leases_expired",
            "Open runs whose lease has expired (their worker is gone; the reaper requeues them).",
            value=figures.expired_leases,
        )


def _publishes(figures: Figures) -> Metric:
    family = CounterMetricFamily(
        "masthead_publishes",
        "Publishes, unpublishes and archives that went through (a receipt not blocked), by action.",
        labels=("action",),
    )
    totals: dict[str, int] = {}
    for (action, state), count in figures.receipts.items():
        if state != ReceiptState.BLOCKED.value:
            totals[action] = totals.get(action, 0) + count
    for action, count in sorted(totals.items()):
        family.add_metric((action,), count)
    return family


def _verifications(figures: Figures) -> Metric:
    family = CounterMetricFamily(
        "masthead_verifications",
        "Receipts whose verification ended, by outcome (verified or unverified).",
        labels=("outcome",),
    )
    for outcome in OUTCOMES:
        count = sum(n for (_action, state), n in figures.receipts.items() if state == outcome)
        family.add_metric((outcome,), count)
    return family


def exposition(requests: RequestMetrics, figures: Figures) -> bytes:
    """This process's request figures, then the database's, as one text document."""
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_FiguresCollector(figures))
    return generate_latest(requests.registry) + generate_latest(scraped)
