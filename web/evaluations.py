"""Evaluations started from the web app: queue durably first, then (optionally) judge in the background."""

from __future__ import annotations

import asyncio
import logging

from engine.transcript import InterviewRecord
from web.context import WebContext

log = logging.getLogger(__name__)


async def evaluate_job(ctx: WebContext, job_id: int) -> None:
    """Run one queued job now; on failure it stays in the queue for `sima evaluations retry`."""
    from evaluation.service import run_pending
    from sima.services import judge_endpoint

    config = ctx.app.config
    try:
        for o in await run_pending(ctx.store, lambda: judge_endpoint(config), config.evaluation,
                                   prompts=ctx.app.prompts, samples=config.judge_samples, job_ids=[job_id],
                                   banks=ctx.app.banks):
            log.info("evaluation of %s: %s %s", o.interview_id, o.status, o.error or "")
    except Exception:
        log.exception("evaluation job %d failed; it stays queued", job_id)


async def queue_evaluation(ctx: WebContext, record: InterviewRecord, *, again: bool = False) -> int:
    """Queue `record`'s evaluation (durably, before anything else) and judge it in the background if configured."""
    job_id = await asyncio.to_thread(ctx.store.enqueue_evaluation, record.interview_id, record, again=again)
    log.info("interview %s queued for evaluation (job %d)", record.interview_id, job_id)
    if ctx.evaluate_now:
        ctx.spawn(evaluate_job(ctx, job_id))
    return job_id
