"""Prometheus metrics, on a registry the caller owns (never the process-global one).

Label children are resolved once and cached, so recording an observation on a hot path
is one dict lookup and one ``observe``.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

#: 50 µs to 5 s; includes 10, 50 and 100 ms, the source document's thresholds.
LATENCY_BUCKETS: Final = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
BATCH_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST


class Metrics:
    """Every metric ns-root records. One instance per app or registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.operation_seconds = Histogram(
            "nsroot_operation_duration_seconds",
            "Duration of core operations, by operation and outcome.",
            ["operation", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "nsroot_http_requests",
            "HTTP requests answered, by route and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "nsroot_http_request_duration_seconds",
            "Duration of HTTP requests, by route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_in_flight = Gauge(
            "nsroot_http_requests_in_flight", "HTTP requests being answered now.", registry=r
        )
        self.commit_seconds = Histogram(
            "nsroot_store_commit_duration_seconds",
            "Duration of storage commits (one per group of writes).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.commit_batch = Histogram(
            "nsroot_store_commit_batch_size",
            "Writes committed together in one storage transaction (group commit).",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self._ops: dict[tuple[str, str], Histogram] = {}
        self._http: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_operation(self, operation: str, outcome: str, seconds: float) -> None:
        key = (operation, outcome)
        child = self._ops.get(key)
        if child is None:
            child = self._ops[key] = self.operation_seconds.labels(operation, outcome)
        child.observe(seconds)

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        pair = self._http.get(key)
        if pair is None:
            pair = self._http[key] = (
                self.http_requests.labels(method, route, str(status)),
                self.http_seconds.labels(method, route),
            )
        pair[0].inc()
        pair[1].observe(seconds)

    def observe_commit(self, seconds: float, batch: int) -> None:
        # Called from the writer thread; prometheus_client metrics are thread-safe.
        self.commit_seconds.observe(seconds)
        self.commit_batch.observe(batch)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
