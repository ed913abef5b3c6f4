"""`sima plan`: the interview plan for a role and level, or a dry run on a fake clock."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from engine.phases import Level
from engine.plan import plan as make_plan
from engine.plan import simulate
from sima.context import load_context

out = Console(soft_wrap=True)  # never wrap file:line messages


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    ctx: typer.Context,
    role: str = typer.Option("generic", help="role slug from question_banks/"),
    seniority: Level = typer.Option(Level.MID, help="candidate level"),
    simulate_run: bool = typer.Option(False, "--simulate", help="run the engine on a fake clock"),
    answer_seconds: float = typer.Option(60.0, "--answer-seconds", min=1, help="simulated answer length"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Print phases, budgets and question ids; with --simulate, the timeline of a dry run."""
    app = load_context(ctx.find_root().obj)
    if role not in app.banks.banks:
        raise typer.BadParameter(f"unknown role '{role}'; known: {', '.join(sorted(app.banks.banks))}",
                                 param_hint="--role")
    if simulate_run:
        result = asyncio.run(simulate(app.config.interview, app.banks, role, seniority, answer_seconds))
    else:
        result = make_plan(app.config.interview, app.banks, role, seniority)
    if as_json:
        print(result.model_dump_json(indent=2, exclude_none=True))
        return
    table = Table(title=f"{app.banks.bank(role).name}, {seniority.value}")
    for col in ("phase", "budget", "questions"):
        table.add_column(col)
    for p in result.phases:
        table.add_row(p.name, f"{p.budget_seconds / 60:.1f} min", ", ".join(p.questions))
    out.print(table)
    if result.timeline:
        tl = Table(title=f"simulated, answers of {answer_seconds:g} s")
        for col in ("phase", "start", "end", "budget", "asked", "ended by"):
            tl.add_column(col)
        for row in result.timeline:
            tl.add_row(row.phase, f"{row.start_s / 60:.1f}", f"{row.end_s / 60:.1f}", f"{row.budget_s / 60:.1f}",
                       str(len(row.questions_asked)), row.end_reason or "")
        out.print(tl)
    out.print(f"total: {result.total_seconds / 60:.1f} min" + (f" ({result.end_reason})" if result.end_reason else ""))
