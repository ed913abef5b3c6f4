"""`sima interviews list|export|delete`: the interviews kept, and a candidate's data rights over theirs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from sima.context import load_context

out = Console(soft_wrap=True)
interviews_app = typer.Typer(help="Interviews: list them, export or delete one (a candidate's data).",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(interviews_app, name="interviews")


@interviews_app.command("list")
def list_interviews(ctx: typer.Context,
                    unfinished: bool = typer.Option(False, help="only interviews that can still be resumed")) -> None:
    """Interviews, newest first."""
    from sima.commands.worker import open_store

    app = load_context(ctx.find_root().obj)
    rows = open_store(app.config).interviews(unfinished=unfinished)
    table = Table(title=f"{len(rows)} interview(s)")
    for col in ("id", "candidate", "role", "started (UTC)", "ended", "room", "consent"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.id, r.candidate_name or "", r.role or "",
                      f"{r.started_at:%Y-%m-%d %H:%M}" if r.started_at else "",
                      r.end_reason or "[yellow]unfinished[/yellow]", r.room or "",
                      f"{r.consent_at:%Y-%m-%d %H:%M}" if r.consent_at else "")
    out.print(table)


@interviews_app.command()
def export(ctx: typer.Context, interview_id: str = typer.Argument(..., metavar="ID"),
           out_dir: Path = typer.Option(Path("exports"), "--out", help="folder to write ID/ into")) -> None:
    """Everything kept about one interview, in one folder: facts and consent, transcript, engine state, reports,
    journal and audio, webhook deliveries."""
    from sima.commands.worker import open_store
    from sima.ops.data_rights import NotFound, export_interview

    app = load_context(ctx.find_root().obj)
    try:
        folder = export_interview(open_store(app.config), app.config, interview_id, out_dir)
    except (NotFound, ValueError) as exc:
        out.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    out.print(f"[green]✓[/green] exported {interview_id} to {folder} ({files} files)", highlight=False)


@interviews_app.command()
def delete(ctx: typer.Context, interview_id: str = typer.Argument(..., metavar="ID"),
           yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
    """Delete one interview everywhere: database rows (turns, evaluations, queue, webhooks), journal, reports,
    audio. There is no undo."""
    from sima.commands.worker import open_store
    from sima.ops.data_rights import delete_interview

    app = load_context(ctx.find_root().obj)
    if not yes:
        typer.confirm(f"delete interview {interview_id} and everything kept about it?", abort=True)
    try:
        deleted = delete_interview(open_store(app.config), app.config, interview_id)
    except ValueError as exc:
        out.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    if not deleted.in_database and not deleted.files:
        out.print(f"[yellow]nothing kept about {interview_id}[/yellow]", highlight=False)
        return
    out.print(f"[green]✓[/green] deleted {interview_id}: database rows{'' if deleted.in_database else ' (none)'}, "
              f"{deleted.files} file(s)", highlight=False)
