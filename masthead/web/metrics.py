"""The figures `/api/v1/metrics` shows, in Prometheus' text format.

Two sources. Requests are counted in this process (`RequestMetrics`, fed by
`RequestLog`), each series labelled with the process (`host:pid`), so that several
server processes never overwrite each other's counts: sum over `process` for the site.
Everything else is read from the database at scrape time (`actions.metrics`), so it is
whole across processes and workers whichever process answers.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
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
    """This process's request counts and latencies, by method, route pattern and status.

    Kept as plain numbers under one lock (a request adds to three of them, about a
    microsecond) and turned into Prometheus families only when scraped.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.process = f"{socket.gethostname()}:{os.getpid()}"
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._lock = threading.Lock()
        self.registry.register(_RequestCollector(self))

    def watch_cache(self, cache: RenderCache) -> None:
        """Show the render cache's hits, misses and size with this process's figures."""
        self.registry.register(_CacheCollector(cache, self.process))

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        key = (method, route or UNMATCHED, str(status))
        bucket = bisect_left(LATENCY_BUCKETS, seconds)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            series.count += 1
            series.total += seconds
            series.buckets[bucket] += 1

    def series(self) -> list[tuple[tuple[str, str, str], int, float, list[int]]]:
        with self._lock:
            return [
                (key, found.count, found.total, list(found.buckets))
                for key, found in sorted(self._series.items())
            ]


class _Series:
    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last: above every bound


class _RequestCollector(Collector):
    def __init__(self, metrics: RequestMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        labels = ["method", "route", "status", "process"]
        requests = CounterMetricFamily(
            "masthead_http_requests",
            "HTTP requests answered, by method, route pattern and status.",
            labels=labels,
        )
        latency = HistogramMetricFamily(
            "masthead_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route pattern and status.",
            labels=labels,
        )
        for key, count, total, buckets in self.metrics.series():
            values = [*key, self.metrics.process]
            requests.add_metric(values, count)
            cumulative, running = [], 0
            for bound, number in zip((*LATENCY_BUCKETS, math.inf), buckets, strict=True):
                running += number
                cumulative.append(("+Inf" if math.isinf(bound) else repr(bound), running))
            latency.add_metric(values, cumulative, total)
        yield requests
        yield latency


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
        deliveries = GaugeMetricFamily(
            "masthead_webhook_deliveries",
            "Webhook deliveries, by state (pending, delivered, failed).",
            labels=("state",),
        )
        for state, count in sorted(figures.webhook_deliveries.items()):
            deliveries.add_metric((state,), count)
        yield deliveries


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
