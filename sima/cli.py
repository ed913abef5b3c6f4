"""The `sima` command line. Each command group lives in sima/commands/ and registers itself here."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler

from engine.yamlsrc import SourceError
from sima.commands import (
    banks,
    console,
    db,
    evaluate,
    evaluations,
    interviews,
    invite,
    plan,
    prompts,
    serve,
    simulate,
    token,
    users,
    worker,
)

app = typer.Typer(
    name="sima",
    help="SIMA, an open AI voice interviewer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)

for module in (banks, prompts, plan, evaluate, evaluations, worker, token, console, simulate, serve, users, invite, db,
               interviews):
    module.register(app)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help="config file; default $SIMA_CONFIG or config.yaml"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging"),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=True)],
    )
    logging.getLogger("transitions").setLevel(logging.WARNING)  # it logs every state callback at INFO
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per plugin and migration step; ours says what ran
    if not verbose:  # a line per LLM call would bury the interview's own progress
        for name in ("httpx", "httpx2"):  # the OpenAI SDK's client, and LiveKit's
            logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = config


def main() -> None:
    try:
        app()
    except SourceError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False)
        sys.exit(1)
