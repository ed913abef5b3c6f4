"""`sima prompts render`: print exactly what the agent would be told in a phase."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from engine.clock import FakeClock
from engine.instructions import render_instructions
from engine.interview import InterviewEngine
from engine.phases import PHASE_ORDER, Level, Phase
from engine.plan import advance_to
from engine.snapshot import Profile
from sima.context import load_context

out = Console(soft_wrap=True)  # never wrap file:line messages
prompts_app = typer.Typer(help="Inspect the agent's prompt templates.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(prompts_app, name="prompts")


async def _engine_in(ctx_obj, phase: Phase, role: str, level: Level, name: str | None):  # type: ignore[no-untyped-def]
    app = load_context(ctx_obj)
    engine = InterviewEngine(app.config.interview, app.banks, FakeClock(),
                             profile=Profile(role=app.banks.bank(role).role, level=level, name=name, source="preset"))
    await engine.start()
    await advance_to(engine, phase)
    return app, engine


@prompts_app.command()
def render(
    ctx: typer.Context,
    phase: Phase = typer.Option(Phase.INTRODUCTION, help="phase to render"),
    role: str = typer.Option("generic", help="role slug from question_banks/"),
    seniority: Level = typer.Option(Level.MID, help="candidate level"),
    name: str | None = typer.Option(None, help="candidate name, as the candidate would say it"),
) -> None:
    """Render the system instructions for a phase, with that phase's first question."""
    if phase not in PHASE_ORDER:
        raise typer.BadParameter(f"unknown phase {phase}")
    app, engine = asyncio.run(_engine_in(ctx.find_root().obj, phase, role, seniority, name))
    out.print(render_instructions(app.prompts, engine), markup=False, highlight=False)
