"""`sima console [--text]`: be interviewed in the terminal, by voice where a microphone and speaker exist.

With audio, LiveKit's own console runs the interview through the worker's code path (no LiveKit server needed; it
needs PortAudio, Debian's `libportaudio2`). With `--text`, or when no audio device can be used, the candidate types
and reads instead, with the same agent, engine, journal and evaluation.

Example::

    sima console --text --time-scale 10     # a typed interview whose timers run ten times faster
    sima console --text --resume 3f2a...    # continue an interrupted one (same phase, budgets, questions asked)
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from sima.commands.worker import hand_logging_to_livekit, load_runtime, preflight
from sima.context import load_context

if TYPE_CHECKING:
    from pipeline.resume import Resumable
    from pipeline.worker import WorkerRuntime

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("console")(console)


def audio_devices_available() -> bool:
    """True when PortAudio loads and there is a default microphone and speaker."""
    try:
        import sounddevice as sd

        sd.query_devices(kind="input")
        sd.query_devices(kind="output")
    except Exception:  # OSError without PortAudio, PortAudioError or ValueError without devices
        return False
    return True


def _resumable(runtime: WorkerRuntime, interview_id: str) -> Resumable:
    """The interview to continue, from the runtime's database and journal; exit 1 with the reason if there is none."""
    from sima.ops.resume import ResumeError, StoreDirectory, load_resumable

    directory = runtime.directory
    assert isinstance(directory, StoreDirectory)
    try:
        resumable = load_resumable(directory.store, directory.journal, interview_id)
    except ResumeError as exc:
        err.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    out.print(f"[dim]resuming interview {interview_id}: {resumable.snapshot.state}, {len(resumable.turns)} turns, "
              f"{resumable.snapshot.elapsed_seconds / 60:.1f} interview minutes so far[/dim]", highlight=False)
    return resumable


def _show(speaker: str, text: str) -> None:
    out.print(f"[bold cyan]{speaker}[/bold cyan]: {escape(text)}")


def console(
    ctx: typer.Context,
    text: bool = typer.Option(False, "--text", help="type instead of speaking"),
    time_scale: float | None = typer.Option(None, "--time-scale", min=0.1, max=100,
                                            help="run interview time this many times faster (demos)"),
    evaluate: bool = typer.Option(True, help="evaluate the interview when it ends (it is queued either way)"),
    resume: str | None = typer.Option(None, "--resume", metavar="ID",
                                      help="continue the unfinished interview ID where it stopped (typed)"),
) -> None:
    """Be interviewed in this terminal."""
    config_path = ctx.find_root().obj
    app = load_context(config_path)
    text = text or resume is not None  # LiveKit's own console (audio) cannot be handed a resumed interview
    speak = not text and audio_devices_available()
    if not text and not speak:
        err.print("[yellow]no usable microphone and speaker (PortAudio: install libportaudio2): "
                  "typed text instead[/yellow]")
    preflight(app, livekit=False, audio=speak)
    if speak:
        from pipeline.worker import build_server, run_livekit_cli

        loader = functools.partial(load_runtime, config_path, evaluate=evaluate, time_scale=time_scale)
        hand_logging_to_livekit()
        run_livekit_cli(build_server(loader, agent_name=app.config.agent_name), ["console"])
        return

    from pipeline.console import run_text_console, stdin_lines

    runtime = load_runtime(config_path, evaluate=evaluate, time_scale=time_scale)
    resumable = _resumable(runtime, resume) if resume else None
    out.print("[dim]Type each answer and press Enter; Ctrl-D ends the interview.[/dim]")
    try:
        record = asyncio.run(run_text_console(runtime, lines=stdin_lines(), write=_show, resume=resumable))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if record is not None:
        out.print(f"[dim]interview {record.interview_id}: {len(record.turns)} turns, ended "
                  f"({record.end_reason}); journal in {app.config.paths.runs / record.interview_id}[/dim]",
                  highlight=False)
