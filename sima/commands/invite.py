"""`sima invite --name NAME --role ROLE --seniority LEVEL [--mode voice|text] [--expires 48h]`: a candidate's link.

Prints the link (`web.public_url` + `/i/<secret>`): single use, expiring, revocable from the dashboard, and it
presets the candidate's name, role and level for the interviewer.

Example::

    sima invite --name "Ada Lovelace" --role backend --seniority senior --mode text --expires 72h
"""

from __future__ import annotations

import typer
from rich.console import Console

from engine.phases import Level
from sima.context import load_context

err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("invite")(invite)


def invite(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="the candidate's name, as the interviewer will use it"),
    role: str = typer.Option(..., "--role", help="role slug or name from question_banks/"),
    seniority: Level = typer.Option(..., "--seniority", help="the candidate's level"),
    mode: str = typer.Option("voice", "--mode", help="voice (LiveKit) or text (typed, in the browser)"),
    expires: str = typer.Option("48h", "--expires", help="link lifetime, e.g. 48h, 7d, 90m (at most 30d)"),
) -> None:
    """Create an invitation and print the candidate's link."""
    from storage.store import Store
    from web.invitations import InvitationError, candidate_link
    from web.invitations import invite as make_invitation

    app = load_context(ctx.find_root().obj)
    try:
        inv, secret = make_invitation(Store(app.config.storage.url), app.banks, candidate_name=name, role=role,
                                      seniority=seniority.value, mode=mode, expires=expires)
    except InvitationError as exc:
        for problem in exc.problems:
            err.print(f"[red]✗[/red] {problem}", highlight=False)
        raise typer.Exit(1) from None
    err.print(f"invitation {inv.id} for {inv.candidate_name} ({inv.role}, {inv.level}, {inv.mode}), expires "
              f"{inv.expires_at:%Y-%m-%d %H:%M} UTC", highlight=False)
    print(candidate_link(str(app.config.web.public_url), secret))
