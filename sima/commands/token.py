"""`sima token --room R --identity I [--name N] [--role R] [--seniority S] [--ttl 15m]`: a candidate's join token.

The token joins that one room only, expires after `--ttl` (at most 2h), and dispatches the interviewer into the room
with the candidate's preset. Needs $LIVEKIT_API_KEY and $LIVEKIT_API_SECRET.

Example::

    sima token --room interview-ada --identity ada --name "Ada Lovelace" --role backend --seniority senior
"""

from __future__ import annotations

import os

import typer
from rich.console import Console

from engine.phases import Level
from sima.context import load_context

err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("token")(token)


def token(
    ctx: typer.Context,
    room: str = typer.Option(..., "--room", help="the room the candidate may join (that one only)"),
    identity: str = typer.Option(..., "--identity", help="the candidate's participant identity"),
    name: str | None = typer.Option(None, "--name", help="the candidate's name, preset for the interview"),
    role: str | None = typer.Option(None, "--role", help="role slug or name from question_banks/, preset"),
    seniority: Level | None = typer.Option(None, "--seniority", help="candidate level, preset"),
    ttl: str = typer.Option("15m", "--ttl", help="token lifetime, e.g. 15m, 90s, 1h30m (at most 2h)"),
) -> None:
    """Print a join token for one candidate in one room."""
    from pipeline.tokens import TokenError, candidate_token, parse_ttl

    app = load_context(ctx.find_root().obj)
    role_slug = None
    if role:
        role_slug = role if role in app.banks.banks else app.banks.match_role(role)
        if role_slug is None:
            known = ", ".join(sorted(app.banks.banks))
            err.print(f"[red]✗[/red] --role: '{role}' matches no question bank; known: {known}", highlight=False)
            raise typer.Exit(1)
    try:
        jwt = candidate_token(
            os.environ.get("LIVEKIT_API_KEY", ""), os.environ.get("LIVEKIT_API_SECRET", ""),
            room=room, identity=identity, agent_name=app.config.agent_name, name=name, role=role_slug,
            seniority=seniority.value if seniority else None, ttl=parse_ttl(ttl),
        )
    except TokenError as exc:
        err.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    print(jwt)
