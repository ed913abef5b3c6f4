"""`sima evaluate PATH [--out DIR]`: evaluate a finished conversation from a file, the seed's manual fallback.

The file (a LiveKit chat history or a SIMA transcript) goes through the same queue and worker as a live interview,
so a judge that fails leaves the job for `sima evaluations retry` instead of losing it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from sima.context import AppContext, load_context

# The evaluation stack (openai, SQLAlchemy) is imported inside the functions below: at module level it would add
# ~0.7 s to the start of every `sima` command, bank validation included.
if TYPE_CHECKING:
    from evaluation.service import JobOutcome
    from storage.store import Store

out = Console(soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)


def print_outcomes(outcomes: list[JobOutcome]) -> bool:
    """Summaries of finished jobs and the errors of failed ones; True if every job is done."""
    from evaluation.summary import console_summary

    for o in outcomes:
        if o.report is not None:
            out.print(console_summary(o.report))
            out.print(f"[dim]reports:[/dim] {o.json_path}\n         {o.html_path}", highlight=False)
        else:
            out.print(f"[red]✗ job {o.job_id} ({o.interview_id}) {o.status}:[/red] {o.error}", highlight=False)
            if o.status == "failed":
                out.print("  it stays in the queue: fix the cause, then run `sima evaluations retry`")
    return all(o.status == "done" for o in outcomes)


def drain(app: AppContext, store: Store, job_ids: list[int] | None = None) -> list[JobOutcome]:
    """Run the worker over the queue (or just `job_ids`) with the configured judge; errors end the command."""
    from evaluation.service import run_pending
    from pipeline.registry import ProviderError
    from sima.services import judge_endpoint

    try:
        return asyncio.run(run_pending(store, lambda: judge_endpoint(app.config), app.config.evaluation,
                                       prompts=app.prompts, samples=app.config.judge_samples, job_ids=job_ids,
                                       banks=app.banks))
    except ProviderError as exc:
        out.print(f"[red]✗ judge unavailable:[/red] {exc}", highlight=False)
        out.print("  the job stays in the queue: fix the cause, then run `sima evaluations retry`")
        raise typer.Exit(1) from None


def open_store(app: AppContext) -> Store:
    """The configured store (with its webhook receivers, so an evaluation finished here is announced too)."""
    from sima.commands.worker import open_store as configured_store
    from storage.store import StorageError

    try:
        return configured_store(app.config)
    except StorageError as exc:
        out.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


def evaluate(
    ctx: typer.Context,
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="LiveKit chat history JSON or SIMA transcript JSON"),
    out_dir: Path | None = typer.Option(None, "--out", help="folder for the reports; default evaluation.output_dir"),
) -> None:
    """Score a finished interview from a file and write its JSON and HTML reports."""
    from evaluation.chat_history import read_transcript

    app = load_context(ctx.find_root().obj)
    record = read_transcript(path, app.banks)
    record = record.model_copy(update={"config_hash": record.config_hash or app.config.fingerprint()})
    out.print(f"evaluating {record.candidate_name or 'unnamed candidate'} for {record.position} "
              f"({len(record.candidate_turns())} candidate turns)", highlight=False)
    store = open_store(app)
    job_id = store.enqueue_evaluation(record.interview_id, record, output_dir=str(out_dir) if out_dir else None,
                                      again=True)
    outcomes = drain(app, store, [job_id])
    if not outcomes:
        job = store.job(job_id)
        owner = job.lease_owner if job else "?"
        out.print(f"[yellow]job {job_id} is being evaluated by another worker ({owner})[/yellow]", highlight=False)
        raise typer.Exit(1)
    if not print_outcomes(outcomes):
        raise typer.Exit(1)
