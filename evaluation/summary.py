"""The console summary of a report (rich), as the seed printed one after each evaluation.

Example::

    >>> Console().print(console_summary(report))   # doctest: +SKIP
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from evaluation.report import EvaluationReport
from evaluation.settings import Decision, Dimension

_STYLES = {Decision.STRONG_HIRE: "bold green", Decision.HIRE: "green", Decision.MAYBE: "yellow",
           Decision.NO_HIRE: "bold red", Decision.INCOMPLETE: "bold"}


def _score(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "–"


def console_summary(report: EvaluationReport) -> RenderableType:
    m, rec = report.metadata, report.recommendation
    head = Text.assemble(
        (m.candidate_name, "bold"), f" · {m.position} · {m.duration_minutes} min\n",
        (rec.decision.value, _STYLES[rec.decision]),
        f"  overall {_score(report.ratings.overall_score)}/10 · role fit "
        f"{'–' if rec.role_fit_percentage is None else rec.role_fit_percentage}%",
    )
    table = Table(show_edge=False, pad_edge=False)
    for col, justify in (("dimension", "left"), ("score", "right"), ("spread", "right"), ("evidence", "right"),
                         ("", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for d in Dimension:
        r = report.dimensions[d]
        note = ("not assessed" if r.score is None else "low confidence" if r.confidence.level == "low" else "")
        table.add_row(d.title, _score(r.score), f"{r.confidence.spread:g}", str(len(r.evidence)), Text(note, "yellow"))
    questions = Table(show_edge=False, pad_edge=False)
    for col, justify in (("#", "right"), ("phase", "left"), ("question", "left"), ("score", "right"),
                         ("points", "right")):
        questions.add_column(col, justify=justify)  # type: ignore[arg-type]
    for a in report.per_question:
        covered = sum(1 for p in a.points if p.status == "covered")
        questions.add_row(str(a.number), a.phase.value, a.question[:60], _score(a.score) if a.score is not None
                          else a.status.replace("_", " "), f"{covered}/{len(a.points)}" if a.points else "")
    lines: list[RenderableType] = [head, table, questions]
    lines += [Text(f"incomplete: {reason}", "yellow") for reason in rec.incomplete]
    lines += [Text(f"capped at {k.cap.value}: {k.reason}", "red") for k in rec.knockouts]
    lines.append(Text(f"{report.evidence.verified_quotes} verified quote(s), "
                      f"{report.evidence.unverified_quotes} unverified dropped; "
                      f"{report.confidence.samples} judge sample(s)"
                      + (f"; {report.judge.calls} judge calls, {report.judge.seconds:g} s" if report.judge else ""),
                      "dim"))
    return Group(*lines)
