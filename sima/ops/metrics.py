"""Prometheus metrics: interviews in progress, turn latency, the evaluation queue, judge time, webhooks.

`sima worker` serves them through LiveKit's own endpoint in multiprocess mode (each interview runs in a job process
of its own; their values are summed from `PROMETHEUS_MULTIPROC_DIR`); `sima evaluations worker` serves them on
`metrics.host:port`; a web app mounts :func:`asgi_app` (`app.mount("/metrics", asgi_app(store))`). The queue's
depth and the webhooks still to deliver are read from the database when scraped, so any process shows the truth.

Example::

    >>> from engine.transcript import TurnMetrics
    >>> observe_turn(TurnMetrics(e2e_latency=1.2, llm_ttft=0.4))
    >>> TURN_LATENCY.labels(stage="e2e")._sum.get() >= 1.2
    True
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_asgi_app, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from engine.snapshot import EngineSnapshot
from engine.transcript import InterviewRecord, Turn, TurnMetrics

if TYPE_CHECKING:
    from pipeline.worker import WorkerRuntime
    from sima.ops.settings import MetricsSettings
    from storage.store import Store

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0)
JUDGE_BUCKETS = (5, 15, 30, 60, 120, 240, 480, 900, 1800)

INTERVIEWS_IN_PROGRESS = Gauge("sima_interviews_in_progress", "Interviews being conducted now",
                               multiprocess_mode="livesum")
INTERVIEWS_FINISHED = Counter("sima_interviews_finished_total", "Interviews that ended", ["reason"])
TURN_LATENCY = Histogram("sima_turn_latency_seconds", "Per-turn latency by stage, from LiveKit's turn metrics",
                         ["stage"], buckets=LATENCY_BUCKETS)
DATABASE_WRITE_FAILURES = Counter("sima_database_write_failures_total",
                                  "Interview writes the database refused (kept in the journal, replayed later)")
EVALUATIONS = Counter("sima_evaluations_total", "Evaluation jobs run by this process, by outcome", ["outcome"])
JUDGE_SECONDS = Histogram("sima_judge_seconds", "Time to evaluate one interview (judge calls and reports)",
                          buckets=JUDGE_BUCKETS)
WEBHOOK_ATTEMPTS = Counter("sima_webhook_attempts_total", "Webhook delivery attempts, by outcome", ["outcome"])

_STAGES = {"e2e": "e2e_latency", "llm_ttft": "llm_ttft", "tts_ttfb": "tts_ttfb", "end_of_turn": "end_of_turn_delay",
           "transcription": "transcription_delay"}


def observe_turn(metrics: TurnMetrics | None) -> None:
    if metrics is None:
        return
    for stage, field in _STAGES.items():
        value = getattr(metrics, field)
        if value is not None:
            TURN_LATENCY.labels(stage=stage).observe(value)


class ObservedSink:
    """Passes every write on to `sink`, counting what it sees: an interview is in progress from its first write in
    this process (new or resumed) until `finished`."""

    def __init__(self, sink: Any):
        self.sink = sink
        self._live: set[str] = set()

    def _seen(self, interview_id: str) -> None:
        if interview_id not in self._live:
            self._live.add(interview_id)
            INTERVIEWS_IN_PROGRESS.inc()

    def finished(self, record: InterviewRecord) -> None:
        if record.interview_id in self._live:
            self._live.discard(record.interview_id)
            INTERVIEWS_IN_PROGRESS.dec()
        INTERVIEWS_FINISHED.labels(reason=record.end_reason or "unknown").inc()

    def create_interview(self, interview_id: str, **meta: Any) -> None:
        self._seen(interview_id)
        self.sink.create_interview(interview_id, **meta)

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        self._seen(interview_id)
        observe_turn(turn.metrics)
        self.sink.append_turn(interview_id, turn)

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        self._seen(interview_id)
        self.sink.save_snapshot(interview_id, snapshot)


def observe_runtime(runtime: WorkerRuntime) -> WorkerRuntime:
    """The runtime with its sink and finish hook counted."""
    sink = ObservedSink(runtime.sink)
    on_finished = runtime.on_finished

    async def finished(record: InterviewRecord) -> None:
        sink.finished(record)
        if on_finished is not None:
            await on_finished(record)

    runtime.sink, runtime.on_finished = sink, finished
    return runtime


class StoreCollector(Collector):
    """The evaluation queue and the webhook outbox, read from the database at each scrape."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from storage.outbox import Outbox

        try:
            depth = self.store.queue_depth()
            undelivered = Outbox(self.store).undelivered()
        except Exception:  # a scrape while the database is down shows the process metrics, not an error page
            log.warning("metrics: database unavailable", exc_info=True)
            return
        queue = GaugeMetricFamily("sima_evaluation_queue_jobs", "Evaluation jobs by status", labels=["status"])
        for status, count in depth.items():
            queue.add_metric([status.value], count)
        yield queue
        yield GaugeMetricFamily("sima_webhook_undelivered", "Webhook deliveries not yet accepted by their receiver",
                                value=undelivered)


class _ProcessCollector(Collector):
    """This process's own registry, as one collector of a scrape's registry."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def registry(store: Store | None = None) -> CollectorRegistry:
    """This process's metrics (every job process's, in multiprocess mode), plus the database's with a store."""
    reg = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(reg)
    else:
        reg.register(_ProcessCollector())
    if store is not None:
        reg.register(StoreCollector(store))
    return reg


def asgi_app(store: Store | None = None) -> Callable[..., Any]:
    """An ASGI app answering Prometheus scrapes, for `sima serve` to mount."""
    return make_asgi_app(registry(store))  # type: ignore[no-any-return]


def serve_metrics(settings: MetricsSettings, store: Store | None = None) -> int | None:
    """Serve /metrics on `settings.host:port` from a background thread; the port (None when disabled)."""
    if settings.port is None:
        return None
    server, _ = start_http_server(settings.port, addr=settings.host, registry=registry(store))
    port = int(server.server_port)
    log.info("metrics on http://%s:%d/metrics", settings.host, port)
    return port


def multiprocess_dir() -> str:
    """The folder where job processes keep their metric values ($PROMETHEUS_MULTIPROC_DIR, or a new one); LiveKit's
    worker sets the variable for its job processes and empties the folder at start."""
    return os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="sima-metrics-")
