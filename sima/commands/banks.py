"""`sima banks validate|lint|stats`: fast, exact feedback for question-bank authors."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from engine.bank_lint import lint_banks
from engine.banks import load_banks
from engine.phases import PHASE_ORDER, Level
from engine.yamlsrc import SourceError
from sima.config import load_config

out = Console(soft_wrap=True)  # never wrap file:line messages
banks_app = typer.Typer(help="Validate, lint and summarise question banks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(banks_app, name="banks")


def _default_paths(ctx: typer.Context, paths: list[Path] | None) -> list[Path]:
    if paths:
        return paths
    return [load_config(ctx.find_root().obj).paths.question_banks]


@banks_app.command()
def validate(ctx: typer.Context, paths: list[Path] | None = typer.Argument(None, help="bank files or folders")) -> None:
    """Check bank files: YAML syntax, unknown keys, duplicate ids, unknown phases or levels, empty text."""
    try:
        banks = load_banks(*_default_paths(ctx, paths))
    except SourceError as exc:
        for problem in exc.problems:
            out.print(str(problem), markup=False, highlight=False)
        out.print(f"[red]✗ {len(exc.problems)} problem(s)[/red]")
        raise typer.Exit(1) from None
    n = sum(len(list(b.all_questions())) for b in banks.banks.values())
    out.print(f"[green]✓[/green] {len(banks.banks)} banks, {n} questions: valid")


@banks_app.command()
def lint(
    ctx: typer.Context,
    paths: list[Path] | None = typer.Argument(None),
    strict: bool = typer.Option(False, help="exit 1 when there are findings"),
) -> None:
    """Coverage gaps per role × level × phase, missing rubrics, estimated time against the budget."""
    settings = load_config(ctx.find_root().obj).interview
    findings = lint_banks(load_banks(*_default_paths(ctx, paths)), settings)
    for finding in findings:
        out.print(str(finding), markup=False, highlight=False)
    out.print(f"{len(findings)} finding(s)" if findings else "[green]✓[/green] no findings")
    if findings and strict:
        raise typer.Exit(1)


@banks_app.command()
def stats(ctx: typer.Context, paths: list[Path] | None = typer.Argument(None)) -> None:
    """Questions available per role, level and phase (counting the generic bank's top-up)."""
    banks = load_banks(*_default_paths(ctx, paths))
    table = Table(title=f"Question banks ({banks.fingerprint[:12]})")
    table.add_column("role", no_wrap=True)
    table.add_column("level", no_wrap=True)
    for phase in PHASE_ORDER:
        table.add_column(phase.value[:5], justify="right", no_wrap=True)
    table.add_column("own", justify="right", no_wrap=True)
    for role, bank in sorted(banks.banks.items()):
        for level in Level:
            counts = [str(len(banks.questions(role, level, p))) for p in PHASE_ORDER]
            own = sum(len(bank.questions(level, p)) for p in PHASE_ORDER)
            table.add_row(role, level.value, *counts, str(own))
    out.print(table)
