"""`sima evaluations worker` as real processes: one is SIGKILLed mid-judge and the next finishes the job; a room
job's evaluation is only queued by the job, and the worker finishes it although the judge takes longer than LiveKit's
120 s shutdown bound; a judge that fails leaves the job failed, visibly, and retried after a backoff."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.testing import fake_job_context

from pipeline.worker import SHUTDOWN_TIMEOUT, entrypoint
from sima.commands.worker import load_runtime
from storage.models import JobStatus
from storage.store import Store
from tests.evaluation.helpers import make_record
from tests.pipeline.conftest import text_stack
from tests.reliability.schema_judge import fitting_reply
from tests.reliability.support import ACK, spawn, wait_for, write_config
from tests.support.openai_server import Reply, ScriptedOpenAI


def _status(store: Store, job_id: int) -> JobStatus | None:
    job = store.job(job_id)
    return job.status if job else None


async def _stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 60)


async def test_a_worker_killed_mid_judge_leaves_the_job_to_the_next(store: Store, store_url: str,
                                                                    tmp_path: Path) -> None:
    in_flight, answering = asyncio.Event(), False

    async def judge(body: dict[str, Any]) -> Reply:
        if not answering:
            in_flight.set()
            await asyncio.sleep(3600)  # the first worker's judge call never returns: it is killed meanwhile
        return fitting_reply(body)

    async with ScriptedOpenAI(judge) as server:
        config = write_config(tmp_path, server.base_url, storage={"url": store_url},
                              evaluation={"lease_seconds": 2, "backoff_seconds": 0})
        job_id = store.enqueue_evaluation("iv-kill", make_record("iv-kill"))
        first = await spawn(config, tmp_path / "worker-1.log", "evaluations", "worker")
        await asyncio.wait_for(in_flight.wait(), 60)
        job = store.job(job_id)
        assert job is not None and job.status is JobStatus.RUNNING and f":{first.pid}:" in (job.lease_owner or "")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        assert _status(store, job_id) is JobStatus.RUNNING and store.evaluations("iv-kill") == []

        answering = True
        second = await spawn(config, tmp_path / "worker-2.log", "evaluations", "worker")
        try:
            await wait_for(lambda: _status(store, job_id) is JobStatus.DONE, 90, what="the second worker")
        finally:
            assert await _stop(second) == 0, (tmp_path / "worker-2.log").read_text()[-3000:]
    [evaluation] = store.evaluations("iv-kill")
    assert Path(evaluation.json_path).is_file() and Path(evaluation.html_path).is_file()
    done = store.job(job_id)
    assert done is not None and f":{second.pid}:" not in (done.lease_owner or "")  # the lease is released


async def test_a_failing_judge_leaves_the_job_failed_and_retried_after_a_backoff(tmp_path: Path) -> None:
    failing = True

    def judge(body: dict[str, Any]) -> Reply:
        return Reply(status=503) if failing else fitting_reply(body)

    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    async with ScriptedOpenAI(judge) as server:
        config = write_config(tmp_path, server.base_url, evaluation={"max_attempts": 1, "backoff_seconds": 0},
                              evaluation_worker={"retry_backoff_seconds": 2, "retry_backoff_max_seconds": 2})
        job_id = store.enqueue_evaluation("iv-fail", make_record("iv-fail"))
        worker = await spawn(config, tmp_path / "worker.log", "evaluations", "worker")
        try:
            await wait_for(lambda: _status(store, job_id) is JobStatus.FAILED, 60, what="the job to fail")
            failed = store.job(job_id)
            assert failed is not None and "503" in (failed.last_error or "")  # visible, with its error
            assert failed.retry_at is not None  # and when it is tried again
            failing = False
            await wait_for(lambda: _status(store, job_id) is JobStatus.DONE, 60, what="the retry")
        finally:
            assert await _stop(worker) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert len(store.evaluations("iv-fail")) == 1


@pytest.mark.slow
async def test_a_room_jobs_evaluation_is_finished_by_the_worker_when_the_judge_outlasts_the_job(
        tmp_path: Path) -> None:
    slow = SHUTDOWN_TIMEOUT + 5  # the first judge call alone outlasts LiveKit's bound on a job's shutdown
    calls: list[float] = []

    async def judge(body: dict[str, Any]) -> Reply:
        if not body.get("response_format"):
            return Reply(text=ACK)  # the interviewer
        calls.append(time.monotonic())
        if len(calls) == 1:
            await asyncio.sleep(slow)
        return fitting_reply(body)

    async with ScriptedOpenAI(judge) as server:
        config = write_config(tmp_path, server.base_url, evaluation={"request_timeout_seconds": slow + 60})
        runtime = load_runtime(config, evaluate=False)
        with fake_job_context() as ctx:
            ctx.proc.userdata.update(runtime=runtime, stack=text_stack(server.base_url))
            await entrypoint(lambda: runtime, ctx)
            session = ctx.primary_session
            await session.run(user_input="Hello, I'm Ada, a backend developer with five years of experience.")
            for n in range(10):  # into the experience and technical questions, whose answers the judge scores
                await session.run(user_input=f"In project {n} I designed the service, measured its latency under "
                                             "load, found the slow query with a profiler and fixed the index.")
            session.shutdown()
            store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
            await wait_for(lambda: bool(store.pending_jobs()), 30, what="the job to queue the evaluation")
        [job] = store.pending_jobs()
        assert job.status is JobStatus.PENDING and not calls  # queued by the job, not judged in it
        started = time.monotonic()
        worker = await spawn(config, tmp_path / "worker.log", "evaluations", "worker")
        try:
            await wait_for(lambda: _status(store, job.id) is JobStatus.DONE, slow + 120, every=1,
                           what="the slow judge")
        finally:
            assert await _stop(worker) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert calls and calls[0] - started < 30 and time.monotonic() - started > SHUTDOWN_TIMEOUT
    [evaluation] = store.evaluations(job.interview_id)
    assert Path(evaluation.json_path).is_file()


async def test_a_report_that_cannot_be_written_fails_the_job_visibly_and_it_is_retried(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be")
    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    async with ScriptedOpenAI(fitting_reply) as server:
        config = write_config(tmp_path, server.base_url, evaluation={"output_dir": str(blocker / "evaluations")},
                              evaluation_worker={"retry_backoff_seconds": 1, "retry_backoff_max_seconds": 1})
        job_id = store.enqueue_evaluation("iv-disk", make_record("iv-disk"))
        worker = await spawn(config, tmp_path / "worker.log", "evaluations", "worker")
        try:
            await wait_for(lambda: _status(store, job_id) is JobStatus.FAILED, 60, what="the job to fail")
            failed = store.job(job_id)
            assert failed is not None and failed.last_error and "reports" in failed.last_error
            blocker.unlink()  # the disk is fixed
            await wait_for(lambda: _status(store, job_id) is JobStatus.DONE, 60, what="the retry")
        finally:
            assert await _stop(worker) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    [evaluation] = store.evaluations("iv-disk")
    assert Path(evaluation.json_path).parent == blocker / "evaluations"
