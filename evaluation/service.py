"""The evaluation worker: drain the durable queue, one job at a time, losing nothing.

For each claimed job: the interview cut into question exchanges → per exchange, N small judge calls about that answer
alone (each retried with exponential backoff) → quotes verified in the candidate's words → code-computed answer,
dimension and overall scores and the decision → JSON and HTML reports on disk → the evaluation stored and the job
marked done, in one transaction. A lease, renewed in the background while the job runs, lets another worker take
over if this process dies. A job whose attempts run out is marked failed with its last error, never dropped.

Example::

    >>> outcomes = await run_pending(store, lambda: fixed_endpoint(endpoint), settings,
    ...                              prompts=PromptLibrary(Path("prompt_templates")), samples=1)  # doctest: +SKIP
    >>> [(o.job_id, o.status) for o in outcomes]                                                   # doctest: +SKIP
    [(1, 'done')]
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from engine.banks import BankSet
from engine.prompts import PromptLibrary
from engine.transcript import InterviewRecord, SessionUsage
from evaluation.aggregate import assess
from evaluation.answers import AnswerResult, judged, needs_judge, unjudged
from evaluation.exchanges import Exchange, split
from evaluation.html import render_html
from evaluation.judge import Judge, JudgeFailed, JudgeUsage, ModelEndpoint
from evaluation.prompt import answer_messages
from evaluation.report import (
    EvaluationReport,
    InterviewUsage,
    JudgeCost,
    ModelUsageCost,
    build_report,
    write_reports,
)
from evaluation.settings import EvaluationSettings

log = logging.getLogger(__name__)


class ClaimedJob(Protocol):
    """A leased job, as `storage.store.Store.claim_job` returns it."""

    @property
    def id(self) -> int: ...
    @property
    def interview_id(self) -> str: ...
    @property
    def record(self) -> InterviewRecord: ...
    @property
    def output_dir(self) -> str | None: ...
    @property
    def owner(self) -> str: ...


class Store(Protocol):
    """The queue calls the worker makes; `storage.store.Store` provides them (evaluation never imports storage)."""

    def claim_job(self, owner: str, lease_seconds: float, *, job_ids: Sequence[int] | None = None
                  ) -> ClaimedJob | None: ...
    def renew_lease(self, job_id: int, owner: str, lease_seconds: float) -> bool: ...
    def complete_job(self, job_id: int, owner: str, *, attempts: int, report: dict[str, Any], overall_score: float,
                     decision: str, role_fit_percentage: int, json_path: str, html_path: str) -> bool: ...
    def fail_job(self, job_id: int, owner: str, *, attempts: int, error: str) -> None: ...


EndpointFactory = Callable[[], AbstractAsyncContextManager[ModelEndpoint]]


@asynccontextmanager
async def fixed_endpoint(endpoint: ModelEndpoint) -> AsyncIterator[ModelEndpoint]:
    """An endpoint factory for a judge that is already running (a cloud API, a server started elsewhere)."""
    yield endpoint


@dataclass
class JobOutcome:
    job_id: int
    interview_id: str
    status: Literal["done", "failed", "lost"]  # lost: the lease expired and another worker took the job
    report: EvaluationReport | None = None
    json_path: Path | None = None
    html_path: Path | None = None
    error: str | None = None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def token_cost(settings: EvaluationSettings, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for this many tokens of `model` at its `evaluation.prices`; None when no price is configured for it."""
    price = settings.prices.get(model)
    return (round((prompt_tokens * price.input_per_million
                   + completion_tokens * price.output_per_million) / 1e6, 4) if price else None)


def judge_cost(judge: Judge, usage: JudgeUsage, seconds: float, settings: EvaluationSettings) -> JudgeCost:
    cost = token_cost(settings, judge.endpoint.model, usage.prompt_tokens, usage.completion_tokens)
    return JudgeCost(model=judge.endpoint.model, calls=usage.calls, failed_calls=usage.failed_calls,
                     prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                     seconds=round(seconds, 1), estimated_cost_usd=cost,
                     calibration=settings.calibration.get(judge.endpoint.model, 1.0))


def interview_usage(usage: SessionUsage | None, settings: EvaluationSettings) -> InterviewUsage | None:
    """The interview's own usage (its voice session's models), LLM tokens priced like the judge's."""
    if usage is None:
        return None
    models = [ModelUsageCost(**m.model_dump(),
                             estimated_cost_usd=token_cost(settings, m.model, m.prompt_tokens, m.completion_tokens)
                             if m.kind == "llm" else None)
              for m in usage.models]
    priced = [m.estimated_cost_usd for m in models if m.estimated_cost_usd is not None]
    return InterviewUsage(models=models, estimated_cost_usd=round(sum(priced), 4) if priced else None)


async def _score(judge: Judge, record: InterviewRecord, exchange: Exchange, settings: EvaluationSettings,
                 prompts: PromptLibrary, samples: int) -> AnswerResult:
    if not needs_judge(exchange, settings.answers):
        return unjudged(exchange, settings.answers)
    started = time.monotonic()
    replies = await judge.samples(answer_messages(prompts, record, exchange), samples)
    result = judged(exchange, replies, settings.answers, stretch=settings.calibration.get(judge.endpoint.model, 1.0))
    log.info("judge (%s): Q%d (%s) scored %s in %.1f s", judge.endpoint.model, exchange.number,
             exchange.phase.value, result.score, time.monotonic() - started)
    return result


async def evaluate_record(judge: Judge, record: InterviewRecord, settings: EvaluationSettings, *,
                          prompts: PromptLibrary, samples: int, evaluated_at: datetime,
                          banks: BankSet | None = None) -> EvaluationReport:
    """Judge one interview answer by answer and build its report (no storage, no files). With `banks`, questions
    get their misconceptions and difficulty, and questions not from a bank are matched to one by their words or
    scored against their phase's generic rubric; without, only the rubrics the record carries are used."""
    before, started = judge.usage.copy(), time.monotonic()
    exchanges = split(record, banks)
    try:  # calls are bounded by the judge's concurrency; the first answer that cannot be judged fails the job
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_score(judge, record, e, settings, prompts, samples)) for e in exchanges]
    except ExceptionGroup as group_error:
        failed = [e for e in group_error.exceptions if isinstance(e, JudgeFailed)]
        raise (failed[0] if failed else group_error.exceptions[0]) from None
    assessment = assess([t.result() for t in tasks], settings, record, samples=samples)
    cost = judge_cost(judge, judge.usage.since(before), time.monotonic() - started, settings)
    log.info("judge (%s): %d calls, %d+%d tokens, %.0f s for %d exchanges", cost.model, cost.calls,
             cost.prompt_tokens, cost.completion_tokens, cost.seconds, len(exchanges))
    return build_report(record, assessment, judge_model=judge.endpoint.model, evaluated_at=evaluated_at,
                        judge=cost, interview_usage=interview_usage(record.usage, settings))


async def _keep_leased(store: Store, job: ClaimedJob, lease_seconds: float) -> None:
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            renewed = await asyncio.to_thread(store.renew_lease, job.id, job.owner, lease_seconds)
        except Exception:  # a database hiccup: the lease still has two thirds of its time, try at the next beat
            log.warning("job %d: could not renew the lease", job.id, exc_info=True)
            continue
        if not renewed:
            log.warning("job %d: lease lost to another worker", job.id)
            return


async def _process(store: Store, judge: Judge, job: ClaimedJob, settings: EvaluationSettings, *,
                   prompts: PromptLibrary, samples: int, banks: BankSet | None = None) -> JobOutcome:
    calls_before = judge.calls
    evaluated_at = datetime.now(UTC)
    try:
        report = await evaluate_record(judge, job.record, settings, prompts=prompts, samples=samples,
                                       evaluated_at=evaluated_at, banks=banks)
        html = render_html(report, prompts.root)
        folder = Path(job.output_dir or settings.output_dir)
        json_path, html_path = await asyncio.to_thread(write_reports, report, html, folder, evaluated_at)
    except Exception as exc:  # any failure leaves the job failed-retryable, never lost
        error = exc.last_error if isinstance(exc, JudgeFailed) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, JudgeFailed):
            log.exception("job %d: evaluation failed", job.id)
        await asyncio.to_thread(store.fail_job, job.id, job.owner, attempts=judge.calls - calls_before, error=error)
        return JobOutcome(job.id, job.interview_id, "failed", error=error)
    stored = await asyncio.to_thread(
        store.complete_job, job.id, job.owner, attempts=judge.calls - calls_before,
        # the columns are not nullable: an interview with nothing assessed is stored as 0 with decision Incomplete
        report=report.model_dump(mode="json"), overall_score=report.ratings.overall_score or 0.0,
        decision=report.recommendation.decision.value,
        role_fit_percentage=report.recommendation.role_fit_percentage or 0,
        json_path=str(json_path), html_path=str(html_path),
    )
    if not stored:
        json_path.unlink(missing_ok=True)  # the worker that took the job over writes its own
        html_path.unlink(missing_ok=True)
        return JobOutcome(job.id, job.interview_id, "lost", error="lease lost to another worker")
    log.info("job %d: %s, %s → %s", job.id, report.metadata.candidate_name, report.recommendation.decision.value,
             json_path)
    return JobOutcome(job.id, job.interview_id, "done", report, json_path, html_path)


async def run_pending(store: Store, endpoint_factory: EndpointFactory, settings: EvaluationSettings, *,
                      prompts: PromptLibrary, samples: int, job_ids: Sequence[int] | None = None,
                      owner: str | None = None, banks: BankSet | None = None) -> list[JobOutcome]:
    """Evaluate claimable jobs (only `job_ids`, if given) until none is left; the judge endpoint is opened only
    if there is work, so an idle worker never starts a local model."""
    owner = owner or worker_id()
    outcomes: list[JobOutcome] = []
    job = await asyncio.to_thread(store.claim_job, owner, settings.lease_seconds, job_ids=job_ids)
    if job is None:
        return outcomes
    try:
        async with endpoint_factory() as endpoint:
            judge = Judge(endpoint, settings)
            try:
                while job is not None:
                    heartbeat = asyncio.create_task(_keep_leased(store, job, settings.lease_seconds))
                    try:
                        outcomes.append(await _process(store, judge, job, settings, prompts=prompts,
                                                       samples=samples, banks=banks))
                    finally:
                        heartbeat.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await heartbeat
                    job = await asyncio.to_thread(store.claim_job, owner, settings.lease_seconds, job_ids=job_ids)
            finally:
                await judge.close()
    except Exception as exc:
        if job is not None and not any(o.job_id == job.id for o in outcomes):  # the endpoint never came up
            await asyncio.to_thread(store.fail_job, job.id, owner, attempts=0,
                                    error=f"judge endpoint: {type(exc).__name__}: {exc}")
        raise
    return outcomes
