"""`sima worker dev|start`: the LiveKit worker that interviews candidates dispatched to `agent_name`.

Before anything connects, the profile's providers (keys, names) and the LiveKit settings are checked, and every
problem is reported at once. Each job process then loads its runtime with :func:`load_runtime`: config, banks,
templates, the per-interview journal and the database as the sink, the directory where unfinished interviews are
found to resume, and a hook that queues the finished interview's evaluation (run by `sima evaluations worker`).
Prometheus metrics are served on `metrics.host:port`.

Example::

    LIVEKIT_URL=wss://lk.example.com LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... sima worker start
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from sima.context import AppContext, load_context

# livekit and the evaluation stack are imported inside the functions: at module level they would slow every command
if TYPE_CHECKING:
    from engine.transcript import InterviewRecord
    from pipeline.journal import ReplayingSink
    from pipeline.worker import WorkerRuntime
    from sima.config import AppConfig
    from storage.store import Store

log = logging.getLogger(__name__)
err = Console(stderr=True, soft_wrap=True)
worker_app = typer.Typer(help="Run the LiveKit worker that conducts interviews.", no_args_is_help=True)
LIVEKIT_SETTINGS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")


class EvaluateFinished:
    """The `on_finished` hook: make sure the database holds the whole interview (replayed from the journal if it was
    down), queue its evaluation durably, then, with `run_now` (the terminal console; never a room job, whose
    shutdown LiveKit bounds), run the judge.

    With the database still down, queueing is retried for `queue_patience` seconds; after that the journal keeps the
    interview and `sima db replay` (which every `sima evaluations worker` also runs) queues it.
    """

    def __init__(self, app: AppContext, store: Store, *, run_now: bool = True, replaying: ReplayingSink | None = None,
                 queue_patience: float = 90.0):
        self.app = app
        self.store = store
        self.run_now = run_now
        self.replaying = replaying
        self.queue_patience = queue_patience

    async def _queue(self, record: InterviewRecord) -> int | None:
        deadline = time.monotonic() + self.queue_patience
        delay = 1.0
        while True:
            try:
                if self.replaying is not None:
                    await asyncio.to_thread(self.replaying.drain, max(deadline - time.monotonic(), 0.0))
                return await asyncio.to_thread(self.store.enqueue_evaluation, record.interview_id, record)
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    log.error("interview %s: could not queue its evaluation (%s); the journal keeps it, and "
                              "`sima db replay` or any `sima evaluations worker` will queue it", record.interview_id,
                              exc)
                    return None
                log.warning("interview %s: database unavailable (%s); retrying in %.0f s", record.interview_id, exc,
                            delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)

    async def __call__(self, record: InterviewRecord) -> None:
        job_id = await self._queue(record)
        if job_id is None:
            return
        log.info("interview %s queued for evaluation (job %d)", record.interview_id, job_id)
        if not self.run_now:
            return
        from evaluation.service import run_pending
        from sima.services import judge_endpoint

        config = self.app.config
        outcomes = await run_pending(self.store, lambda: judge_endpoint(config), config.evaluation,
                                     prompts=self.app.prompts, samples=config.judge_samples, job_ids=[job_id],
                                     banks=self.app.banks)
        for o in outcomes:
            log.info("evaluation of %s: %s %s", o.interview_id, o.status, o.html_path or o.error or "")


def open_store(config: AppConfig) -> Store:
    """The configured database, migrated, with the configured webhook receivers."""
    from storage.store import Store

    return Store(config.storage.url, webhook_urls=config.webhooks.urls)


def load_runtime(config_path: Path | None, *, evaluate: bool = True, time_scale: float | None = None
                 ) -> WorkerRuntime:
    """Everything a worker process needs; module-level so LiveKit can hand it to each job process. The journal is
    written first and the database from a thread of its own, so a database outage costs no turn."""
    from engine.clock import RealClock, ScaledClock
    from pipeline.journal import JournalSink, ReplayingSink
    from pipeline.ports import TeeSink
    from pipeline.registry import BuildContext
    from pipeline.session import InterviewSetup
    from pipeline.worker import WorkerRuntime
    from sima.ops.metrics import DATABASE_WRITE_FAILURES, observe_runtime
    from sima.ops.resume import StoreDirectory

    app = load_context(config_path)
    config = app.config
    store = open_store(config)
    journal = JournalSink(config.paths.runs)
    replaying = ReplayingSink(store, journal, on_failure=DATABASE_WRITE_FAILURES.inc)
    setup = InterviewSetup(settings=config.interview, banks=app.banks, prompts=app.prompts,
                           profile=config.active_profile, config_hash=config.fingerprint())
    runtime = WorkerRuntime(
        setup=setup,
        build_ctx=BuildContext(cache_dir=config.paths.cache),
        setting_prefix=f"profiles.{config.profile}",
        sink=TeeSink(journal, replaying),
        on_finished=EvaluateFinished(app, store, run_now=evaluate, replaying=replaying),
        clock=ScaledClock(time_scale) if time_scale else RealClock(),
        directory=StoreDirectory(store, journal),
        resume=config.resume,
    )
    return observe_runtime(runtime)


def webhook_problems(config: AppConfig) -> list[str]:
    """Webhooks are never sent unsigned: receivers configured without their secret is a problem at start."""
    name = config.webhooks.secret_env
    return ([f"webhooks.urls: ${name} is not set (the HMAC secret webhooks are signed with)"]
            if config.webhooks.urls and not os.environ.get(name) else [])


def preflight(app: AppContext, *, livekit: bool, audio: bool = True) -> None:
    """Every problem that would stop an interview, reported at once, before any candidate can join."""
    from pipeline.providers import check_profile
    from pipeline.registry import BuildContext
    from storage.store import StorageError, Store

    config = app.config
    problems = check_profile(config.active_profile, BuildContext(cache_dir=config.paths.cache),
                             f"profiles.{config.profile}", audio=audio)
    if livekit:
        problems += [f"${name}: not set (the LiveKit server this worker registers with)"
                     for name in LIVEKIT_SETTINGS if not os.environ.get(name)]
    problems += webhook_problems(config)
    try:
        Store(config.storage.url).close()  # also brings the schema up to date (`sima db upgrade`)
    except StorageError as exc:
        problems.append(f"storage.url: {exc}")
    if problems:
        for problem in problems:
            err.print(f"[red]✗[/red] {problem}", highlight=False)
        raise typer.Exit(1)


def _run(ctx: typer.Context, mode: str) -> None:
    from pipeline.worker import build_server, run_livekit_cli
    from sima.ops.metrics import multiprocess_dir

    config_path = ctx.find_root().obj
    app = load_context(config_path)
    preflight(app, livekit=True)
    # a room job only queues its evaluation: `sima evaluations worker` runs the judge, unbounded by the job's end
    loader = functools.partial(load_runtime, config_path, evaluate=False)
    metrics = app.config.metrics
    # LiveKit serves /metrics itself, summing the job processes' values (each interview runs in a process of its own)
    options = {"prometheus_port": metrics.port, "prometheus_multiproc_dir": multiprocess_dir()} if metrics.port else {}
    server = build_server(loader, agent_name=app.config.agent_name, **options)
    log.info("worker for agent '%s', profile '%s'", app.config.agent_name, app.config.profile)
    hand_logging_to_livekit()
    run_livekit_cli(server, [mode])


def hand_logging_to_livekit() -> None:
    """LiveKit's command line sets up its own log output (JSON in production); ours would print everything twice."""
    logging.getLogger().handlers.clear()


@worker_app.command()
def dev(ctx: typer.Context) -> None:
    """Development mode: debug logging, no idle process pool. Evaluations are queued for `sima evaluations worker`."""
    _run(ctx, "dev")


@worker_app.command()
def start(ctx: typer.Context) -> None:
    """Production mode: register with the LiveKit server and take interviews until stopped. Evaluations are
    queued for `sima evaluations worker`."""
    _run(ctx, "start")
