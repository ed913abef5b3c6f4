"""`sima worker dev|start`: the LiveKit worker that interviews candidates dispatched to `agent_name`.

Before anything connects, the profile's providers (keys, names) and the LiveKit settings are checked, and every
problem is reported at once. Each job process then loads its runtime with :func:`load_runtime`: config, banks,
templates, the database and the per-interview journal as the sink, and an evaluation hook that queues the finished
interview in the database and evaluates it.

Example::

    LIVEKIT_URL=wss://lk.example.com LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... sima worker start
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from sima.context import AppContext, load_context

# livekit and the evaluation stack are imported inside the functions: at module level they would slow every command
if TYPE_CHECKING:
    from engine.transcript import InterviewRecord
    from pipeline.worker import WorkerRuntime
    from storage.store import Store

log = logging.getLogger(__name__)
err = Console(stderr=True, soft_wrap=True)
worker_app = typer.Typer(help="Run the LiveKit worker that conducts interviews.", no_args_is_help=True)
LIVEKIT_SETTINGS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")


class EvaluateFinished:
    """The `on_finished` hook: queue the interview's evaluation durably, then (unless disabled) run it now.

    A judge that fails leaves the job in the queue for `sima evaluations retry`.
    """

    def __init__(self, app: AppContext, store: Store, *, run_now: bool = True):
        self.app = app
        self.store = store
        self.run_now = run_now

    async def __call__(self, record: InterviewRecord) -> None:
        job_id = await asyncio.to_thread(self.store.enqueue_evaluation, record.interview_id, record)
        log.info("interview %s queued for evaluation (job %d)", record.interview_id, job_id)
        if not self.run_now:
            return
        from evaluation.service import run_pending
        from sima.services import judge_endpoint

        config = self.app.config
        outcomes = await run_pending(self.store, lambda: judge_endpoint(config), config.evaluation,
                                     prompts=self.app.prompts, samples=config.judge_samples, job_ids=[job_id])
        for o in outcomes:
            log.info("evaluation of %s: %s %s", o.interview_id, o.status, o.html_path or o.error or "")


def load_runtime(config_path: Path | None, *, evaluate: bool = True, time_scale: float | None = None
                 ) -> WorkerRuntime:
    """Everything a worker process needs; module-level so LiveKit can hand it to each job process."""
    from engine.clock import RealClock, ScaledClock
    from pipeline.journal import JournalSink
    from pipeline.ports import TeeSink
    from pipeline.registry import BuildContext
    from pipeline.session import InterviewSetup
    from pipeline.worker import WorkerRuntime
    from storage.store import Store

    app = load_context(config_path)
    config = app.config
    store = Store(config.storage.url)
    setup = InterviewSetup(settings=config.interview, banks=app.banks, prompts=app.prompts,
                           profile=config.active_profile, config_hash=config.fingerprint())
    return WorkerRuntime(
        setup=setup,
        build_ctx=BuildContext(cache_dir=config.paths.cache),
        setting_prefix=f"profiles.{config.profile}",
        sink=TeeSink(store, JournalSink(config.paths.runs)),
        on_finished=EvaluateFinished(app, store, run_now=evaluate),
        clock=ScaledClock(time_scale) if time_scale else RealClock(),
    )


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
    try:
        Store(config.storage.url).close()
    except StorageError as exc:
        problems.append(f"storage.url: {exc}")
    if problems:
        for problem in problems:
            err.print(f"[red]✗[/red] {problem}", highlight=False)
        raise typer.Exit(1)


def _run(ctx: typer.Context, mode: str, evaluate: bool) -> None:
    from pipeline.worker import build_server, run_livekit_cli

    config_path = ctx.find_root().obj
    app = load_context(config_path)
    preflight(app, livekit=True)
    loader = functools.partial(load_runtime, config_path, evaluate=evaluate)
    server = build_server(loader, agent_name=app.config.agent_name)
    log.info("worker for agent '%s', profile '%s'", app.config.agent_name, app.config.profile)
    hand_logging_to_livekit()
    run_livekit_cli(server, [mode])


def hand_logging_to_livekit() -> None:
    """LiveKit's command line sets up its own log output (JSON in production); ours would print everything twice."""
    logging.getLogger().handlers.clear()


@worker_app.command()
def dev(
    ctx: typer.Context,
    evaluate: bool = typer.Option(True, help="evaluate each interview when it ends (it is queued either way)"),
) -> None:
    """Development mode: debug logging, no idle process pool."""
    _run(ctx, "dev", evaluate)


@worker_app.command()
def start(
    ctx: typer.Context,
    evaluate: bool = typer.Option(True, help="evaluate each interview when it ends (it is queued either way)"),
) -> None:
    """Production mode: register with the LiveKit server and take interviews until stopped."""
    _run(ctx, "start", evaluate)
