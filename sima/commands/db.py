"""`sima db upgrade|current|replay`: the database's schema (Alembic migrations; every start also upgrades) and
bringing it up to the journals after an outage."""

from __future__ import annotations

import typer
from rich.console import Console

from sima.context import load_context

out = Console(soft_wrap=True)
db_app = typer.Typer(help="The database: schema migrations, replaying journals into it.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _engine(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from storage.store import normalise_url

    app = load_context(ctx.find_root().obj)
    return create_engine(normalise_url(app.config.storage.url))


@db_app.command()
def upgrade(ctx: typer.Context,
            revision: str = typer.Option("head", help="the revision to go to (default: the newest)")) -> None:
    """Migrate the database's schema to the newest revision (a database made before migrations is adopted)."""
    from storage.migrate import current
    from storage.migrate import upgrade as migrate

    engine = _engine(ctx)
    before = current(engine)
    after = migrate(engine, revision)
    out.print(f"[green]✓[/green] database at {after}" + (f" (was {before or 'empty'})" if before != after else ""),
              highlight=False)


@db_app.command("current")
def show_current(ctx: typer.Context) -> None:
    """The database's revision, and the newest one."""
    from storage.migrate import current, head

    now, newest = current(_engine(ctx)), head()
    out.print(f"database: {now or 'not migrated'}; newest: {newest}"
              + ("" if now == newest else "  (run `sima db upgrade`)"), highlight=False)


@db_app.command()
def replay(ctx: typer.Context) -> None:
    """Write into the database what the journals under paths.runs hold and it does not (turns written while it was
    down), and queue the evaluation of interviews that ended meanwhile."""
    from sima.commands.worker import open_store
    from sima.ops.journals import replay_journals

    app = load_context(ctx.find_root().obj)
    summary = replay_journals(open_store(app.config), app)
    out.print(f"{summary.journals} journal(s): {len(summary.replayed)} replayed, {len(summary.queued)} evaluation(s) "
              f"queued, {len(summary.failed)} failed", highlight=False)
    if summary.failed:
        raise typer.Exit(1)
