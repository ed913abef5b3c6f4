"""`sima simulate --persona P [--text] [--time-scale K]`: a whole interview with a simulated candidate."""

from __future__ import annotations

import asyncio
import logging

import typer
from rich.console import Console
from rich.table import Table

from sima.context import load_context

out = Console(soft_wrap=True)
COLOURS = {"agent": "cyan", "candidate": "green", "heard": "dim"}
LABELS = {"agent": "SIMA", "candidate": "candidate", "heard": "  (heard)"}


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def _show(speaker: str, line: str) -> None:
    out.print(f"[{COLOURS[speaker]}]{LABELS[speaker]:>10}[/]  {line}", highlight=False)


def _fmt(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "–"


def simulate(
    ctx: typer.Context,
    persona: str = typer.Option("priya-backend-strong", help="persona name in personas/ or a YAML path"),
    text: bool = typer.Option(False, "--text", help="typed turns instead of the audio loop"),
    time_scale: float = typer.Option(5.0, "--time-scale", min=1.0, max=100.0,
                                     help="interview clock speed-up; audio stays real-time"),
    evaluate: bool = typer.Option(True, help="score the interview at the end"),
    resume: str | None = typer.Option(None, "--resume", metavar="ID",
                                      help="continue the unfinished (killed) simulation ID, with the same --persona"),
) -> None:
    """Run one interview against a simulated candidate; write transcript, WAV, latency table and reports."""
    from evaluation.summary import console_summary
    from sima.ops.resume import ResumeError
    from sima.simulation.persona import load_persona
    from sima.simulation.run import simulate_interview

    app = load_context(ctx.find_root().obj)
    who = load_persona(persona, app.config.paths.personas)
    logging.getLogger("livekit").setLevel(logging.WARNING)  # its per-turn INFO lines drown the conversation
    out.rule(f"SIMA × {who.name} ({who.strength} {who.level.value}, {who.role_text}) — profile "
             f"'{app.config.profile}', {'text' if text else 'voice'}, clock ×{time_scale:g}")
    try:
        result = asyncio.run(simulate_interview(app, who, text=text, time_scale=time_scale, evaluate=evaluate,
                                                show=_show, resume=resume))
    except ResumeError as exc:
        out.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    record = result.record
    out.rule("interview over")
    phases = ", ".join(f"{p.phase.value} {p.used_seconds / 60:.1f}m" for p in record.phases)
    out.print(f"{len(record.turns)} turns, {record.duration_seconds / 60:.1f} interview minutes in "
              f"{result.wall_seconds / 60:.1f} real minutes ({record.end_reason}); phases: {phases}", highlight=False)
    aligned = result.alignment
    if aligned.share is not None:
        # answers filed under the question the candidate was answering (the persona knows which it heard)
        out.print(f"answer alignment: {aligned.share:.0%} ({aligned.aligned} of {aligned.answers} candidate turns "
                  f"filed under the question they answer)"
                  + "".join(f"\n  turn {m.turn}: answering {m.answering}, filed under {m.filed_under}"
                            for m in aligned.misfiled), highlight=False)
    out.print(f"candidate: {record.candidate_name or 'name not detected'}, {record.position} "
              f"({record.level.value if record.level else 'level unknown'}); warnings: {len(record.warnings)}",
              highlight=False)
    if result.latency:
        # LiveKit times end of turn and STT both from the end of speech, so with a batch STT (Whisper) the turn
        # ends when its transcript arrives and the two columns agree
        table = Table(title="per-turn latency (s), from the end of the candidate's speech",
                      caption="end of turn and STT include the VAD's silence wait; LLM and TTS are from their request")
        for col in ("turn", "phase", "end of turn", "STT", "LLM first token", "TTS first byte", "end-to-end"):
            table.add_column(col, justify="right")
        for r in result.latency:
            table.add_row(str(r.turn), r.phase or "", _fmt(r.eou_s), _fmt(r.stt_s), _fmt(r.llm_ttft_s),
                          _fmt(r.tts_ttfb_s), _fmt(r.e2e_s))
        out.print(table)
    if result.evaluation is not None and result.evaluation.report is not None:
        out.print(console_summary(result.evaluation.report))
    elif evaluate:
        error = result.evaluation.error if result.evaluation else "not queued"
        out.print(f"[red]✗ evaluation did not finish:[/] {error}; it stays queued for `sima evaluations retry`")
    out.print(f"transcript:   {result.files['transcript']}", highlight=False)
    out.print(f"latency:      {result.files['latency']}", highlight=False)
    if result.wav:
        out.print(f"conversation: {result.wav} ({result.wav_seconds / 60:.1f} min)", highlight=False)
    if result.evaluation and result.evaluation.report is not None:
        out.print(f"report:       {result.evaluation.html_path}\n              {result.evaluation.json_path}",
                  highlight=False)
    if evaluate and not (result.evaluation and result.evaluation.report is not None):
        raise typer.Exit(1)
