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
           Decision.NO_HIRE: "bold red"}


def console_summary(report: EvaluationReport) -> RenderableType:
    m, rec = report.metadata, report.recommendation
    head = Text.assemble(
        (m.candidate_name, "bold"), f" · {m.position} · {m.duration_minutes} min\n",
        (rec.decision.value, _STYLES[rec.decision]),
        f"  overall {report.ratings.overall_score:.1f}/10 · role fit {rec.role_fit_percentage}%",
    )
    table = Table(show_edge=False, pad_edge=False)
    for col, justify in (("dimension", "left"), ("score", "right"), ("spread", "right"), ("evidence", "right"),
                         ("", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for d in Dimension:
        r = report.dimensions[d]
        table.add_row(d.title, f"{r.score:.1f}", f"{r.confidence.spread:g}", str(len(r.evidence)),
                      Text("low confidence", "yellow") if r.confidence.level == "low" else "")
    lines: list[RenderableType] = [head, table]
    lines += [Text(f"capped at {k.cap.value}: {k.reason}", "red") for k in rec.knockouts]
    lines.append(Text(f"{report.evidence.verified_quotes} verified quote(s), "
                      f"{report.evidence.unverified_quotes} unverified dropped; "
                      f"{report.confidence.samples} judge sample(s)", "dim"))
    return Group(*lines)
