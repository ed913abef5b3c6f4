"""`sima evaluations pending|retry`: the durable queue of evaluations, inspected and drained by hand."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from sima.commands.evaluate import drain, open_store, out, print_outcomes
from sima.context import load_context

evaluations_app = typer.Typer(help="The queue of evaluations: list what is not done, retry it.",
                              no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(evaluations_app, name="evaluations")


@evaluations_app.command()
def pending(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Jobs not done yet: waiting, running (with their lease) or failed (with their last error)."""
    from storage.models import JobStatus  # SQLAlchemy, imported late like the rest of the evaluation stack

    app = load_context(ctx.find_root().obj)
    jobs = open_store(app).pending_jobs()
    if as_json:
        rows = [{"id": j.id, "interview_id": j.interview_id, "candidate_name": j.candidate_name,
                 "position": j.position, "status": j.status.value, "attempts": j.attempts, "last_error": j.last_error,
                 "lease_owner": j.lease_owner,
                 "lease_expires_at": j.lease_expires_at.isoformat() if j.lease_expires_at else None,
                 "retry_at": j.retry_at.isoformat() if j.retry_at else None,
                 "updated_at": j.updated_at.isoformat()} for j in jobs]
        out.print_json(json.dumps(rows))
        return
    if not jobs:
        out.print("[green]✓[/green] no pending evaluations")
        return
    table = Table(title=f"{len(jobs)} evaluation(s) not done")
    for col in ("job", "interview", "candidate", "status", "attempts", "updated (UTC)", "last error / lease"):
        table.add_column(col, overflow="fold")
    for j in jobs:
        detail = j.last_error or (f"{j.lease_owner} until {j.lease_expires_at:%H:%M:%S}"
                                  if j.status is JobStatus.RUNNING and j.lease_expires_at else "")
        if j.status is JobStatus.FAILED and j.retry_at:
            detail += f" (tried again from {j.retry_at:%H:%M:%S})"
        table.add_row(str(j.id), j.interview_id, j.candidate_name or "", j.status.value, str(j.attempts),
                      f"{j.updated_at:%Y-%m-%d %H:%M:%S}", detail)
    out.print(table)


@evaluations_app.command()
def retry(ctx: typer.Context) -> None:
    """Requeue failed jobs and evaluate everything claimable (including jobs whose worker died)."""
    from storage.models import JobStatus

    app = load_context(ctx.find_root().obj)
    store = open_store(app)
    requeued = store.retry_failed()
    if requeued:
        out.print(f"requeued {requeued} failed job(s)")
    outcomes = drain(app, store)
    ok = print_outcomes(outcomes)
    running = [j for j in store.pending_jobs() if j.status is JobStatus.RUNNING]
    for j in running:
        out.print(f"[yellow]job {j.id} is held by {j.lease_owner} until {j.lease_expires_at:%H:%M:%S} UTC; "
                  "retry after that if its worker is gone[/yellow]", highlight=False)
    if not outcomes and not running:
        out.print("[green]✓[/green] nothing to evaluate")
    if not ok:
        raise typer.Exit(1)


@evaluations_app.command()
def worker(ctx: typer.Context) -> None:
    """Run until stopped: evaluate queued interviews (leased, retried with backoff, never dropped), send webhooks,
    replay journals into the database, enforce retention; serve Prometheus metrics. Run as many as you like.
    SIGTERM or Ctrl-C stops after the job in hand; a second one stops at once (its lease lets another worker
    finish the job)."""
    import asyncio
    import signal

    from sima.commands.worker import open_store, webhook_problems
    from sima.ops.evaluation_worker import run_worker
    from sima.ops.metrics import serve_metrics

    app = load_context(ctx.find_root().obj)
    for problem in webhook_problems(app.config):
        out.print(f"[red]✗[/red] {problem}", highlight=False)
        raise typer.Exit(1)
    store = open_store(app.config)
    serve_metrics(app.config.metrics, store)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set() and task is not None:
                task.cancel()
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        await run_worker(app, store, stop=stop, on_outcome=lambda o: print_outcomes([o]))

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        raise typer.Exit(130) from None
