"""`sima evaluations worker`: the long-running process that drains the evaluation queue, sends webhooks, replays
journals into the database and enforces retention. Run as many as you like against one database.

Evaluations: jobs are leased (`evaluation.service.run_pending`, lease renewed while the judge runs, so its time is
bounded by nothing but `evaluation.request_timeout_seconds` per call); a job that fails is failed visibly, with its
error, and claimable again after a backoff that doubles up to `retry_backoff_max_seconds` — never dropped; a worker
that dies mid-judge leaves its lease to expire and another takes the job. Webhooks are sent from the outbox (see
:mod:`sima.ops.webhooks`). Interviews whose journal holds more than the database (written while it was down) are
replayed into it, and queued for evaluation if they ended; an interview nobody resumed for
`resume.abandon_after_hours` is ended as 'abandoned' and queued. Interviews older than `storage.retention_days` are
deleted with everything kept about them.

Example::

    >>> asyncio.run(run_worker(app, store, stop=asyncio.Event()))   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from evaluation.service import EndpointFactory, JobOutcome, run_pending, worker_id
from pipeline.journal import JournalSink
from sima.context import AppContext
from sima.ops import metrics
from sima.ops.data_rights import enforce_retention
from sima.ops.journals import replay_journals
from sima.ops.resume import end_abandoned
from sima.ops.settings import EvaluationWorkerSettings
from sima.ops.webhooks import send_due
from storage.models import utcnow
from storage.store import Store

log = logging.getLogger(__name__)


def backoff(failures: int, settings: EvaluationWorkerSettings) -> float:
    """Seconds before a job that failed `failures` times in a row is tried again.

    >>> s = EvaluationWorkerSettings(retry_backoff_seconds=30, retry_backoff_max_seconds=100)
    >>> [backoff(n, s) for n in (1, 2, 3, 4)]
    [30.0, 60.0, 100.0, 100.0]
    """
    return float(min(settings.retry_backoff_seconds * 2 ** (failures - 1), settings.retry_backoff_max_seconds))


class ObservedQueue:
    """The store as `run_pending` uses it, timing each job (judge seconds), counting outcomes, and giving a failed
    job its time to be tried again."""

    def __init__(self, store: Store, settings: EvaluationWorkerSettings):
        self.store = store
        self.settings = settings
        self.failures: dict[int, int] = {}  # failures in a row, per job, seen by this worker
        self._started: dict[int, float] = {}

    def claim_job(self, owner: str, lease_seconds: float, *, job_ids: Sequence[int] | None = None) -> Any:
        job = self.store.claim_job(owner, lease_seconds, job_ids=job_ids)
        if job is not None:
            self._started[job.id] = time.monotonic()
        return job

    def renew_lease(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        return self.store.renew_lease(job_id, owner, lease_seconds)

    def _took(self, job_id: int) -> None:
        started = self._started.pop(job_id, None)
        if started is not None:
            metrics.JUDGE_SECONDS.observe(time.monotonic() - started)

    def complete_job(self, job_id: int, owner: str, **result: Any) -> bool:
        self._took(job_id)
        done = self.store.complete_job(job_id, owner, **result)
        metrics.EVALUATIONS.labels(outcome="done" if done else "lost").inc()
        self.failures.pop(job_id, None)
        return done

    def fail_job(self, job_id: int, owner: str, *, attempts: int, error: str) -> None:
        self._took(job_id)
        failures = self.failures[job_id] = self.failures.get(job_id, 0) + 1
        wait = backoff(failures, self.settings)
        self.store.fail_job(job_id, owner, attempts=attempts, error=error,
                            retry_at=utcnow() + timedelta(seconds=wait))
        metrics.EVALUATIONS.labels(outcome="failed").inc()
        log.warning("job %d failed (%s); trying again in %.0f s", job_id, error, wait)


async def _every(seconds: float, stop: asyncio.Event, step: Callable[[], Any], name: str) -> None:
    """Run `step` (sync, in a thread, or async) now and every `seconds` until `stop`; its errors are logged."""
    while not stop.is_set():
        try:
            result = step()
            if asyncio.iscoroutine(result):
                await result
        except Exception:
            log.exception("%s failed; trying again in %.0f s", name, seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def run_worker(app: AppContext, store: Store, *, stop: asyncio.Event,
                     endpoint_factory: EndpointFactory | None = None,
                     on_outcome: Callable[[JobOutcome], None] = lambda o: None) -> None:
    """Run until `stop` is set: evaluations, webhooks, journal replay with the end of abandoned interviews, and
    retention, each on its own beat."""
    from sima.services import judge_endpoint

    config = app.config
    settings = config.evaluation_worker
    owner = worker_id()
    queue = ObservedQueue(store, settings)
    factory = endpoint_factory or (lambda: judge_endpoint(config))

    async def evaluate() -> None:
        outcomes = await run_pending(queue, factory, config.evaluation, prompts=app.prompts,  # type: ignore[arg-type]
                                     samples=config.judge_samples, owner=owner, banks=app.banks)
        for outcome in outcomes:
            on_outcome(outcome)

    async def deliver() -> None:
        await send_due(store, config.webhooks, owner=owner, stop=stop)

    def retention() -> None:
        if config.storage.retention_days is not None:
            enforce_retention(store, config, now=utcnow())

    journal = JournalSink(config.paths.runs)
    last_sweep: float | None = None  # the first sweep reads every journal, later ones those written since

    async def housekeeping() -> None:
        nonlocal last_sweep
        started = time.time() - 1
        summary = await asyncio.to_thread(replay_journals, store, app, since=last_sweep)
        if not summary.failed:  # a journal that could not be replayed is read again next time
            last_sweep = started
        await end_abandoned(store, journal, app, now=utcnow())

    log.info("evaluation worker %s: polling every %.0f s", owner, settings.poll_seconds)
    await asyncio.gather(
        _every(settings.poll_seconds, stop, evaluate, "evaluation"),
        _every(settings.poll_seconds, stop, deliver, "webhook delivery"),
        _every(settings.housekeeping_seconds, stop, housekeeping, "journal replay"),
        _every(settings.retention_every_seconds, stop, lambda: asyncio.to_thread(retention), "retention"),
    )
