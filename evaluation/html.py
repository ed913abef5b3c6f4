"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no external assets), rendered from
prompt_templates/evaluation_report.html.j2 with autoescaping on, so no transcript text can inject markup.

Geometry (bar widths, timeline offsets) and evidence highlighting are computed here; the template only lays them out.

Example::

    >>> html = render_html(report, Path("prompt_templates"))   # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import jinja2

from evaluation.report import EvaluationReport
from evaluation.settings import Decision, Dimension

TEMPLATE = "evaluation_report.html.j2"
DECISION_COLOURS = {Decision.STRONG_HIRE: "#1b7f4b", Decision.HIRE: "#2f8f5b", Decision.MAYBE: "#b7791f",
                    Decision.NO_HIRE: "#b83232", Decision.INCOMPLETE: "#616e7c"}


@dataclass
class Segment:
    """A run of a turn's text; `labels` name the dimensions (or red flags) it is evidence for, empty if none."""

    text: str
    labels: list[str]


def highlight(text: str, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """Cut `text` at every span boundary so overlapping evidence for several dimensions stays visible.

    >>> [(s.text, s.labels) for s in highlight("I led the migration", [(2, 19, "Experience")])]
    [('I ', []), ('led the migration', ['Experience'])]
    """
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out = []
    for start, end in itertools.pairwise(cuts):
        labels = sorted({label for s, e, label in spans if s <= start and end <= e})
        out.append(Segment(text[start:end], labels))
    return out


def _spans(report: EvaluationReport) -> dict[int, list[tuple[int, int, str]]]:
    by_turn: dict[int, list[tuple[int, int, str]]] = {}
    for a in report.per_question:
        for p in a.points:
            for e in p.evidence:
                by_turn.setdefault(e.turn, []).append((e.start, e.end, f"Q{a.number} {p.status}"))
        for m in a.misconceptions:
            for e in m.evidence:
                by_turn.setdefault(e.turn, []).append((e.start, e.end, f"Q{a.number} misconception"))
    for flag in report.red_flags:
        for e in flag.evidence:
            by_turn.setdefault(e.turn, []).append((e.start, e.end, "Red flag"))
    return by_turn


def _timeline(report: EvaluationReport) -> list[dict[str, object]]:
    """Each phase's slice of the interview, as percentages of the longer of used and planned time."""
    total = max(sum(p.used_minutes for p in report.phases), sum(p.budget_minutes for p in report.phases), 1e-9)
    rows, used_at, planned_at = [], 0.0, 0.0
    for p in report.phases:
        rows.append({"phase": p.phase.title, "used": p.used_minutes, "budget": p.budget_minutes,
                     "questions": len(p.questions),
                     "x": used_at / total * 100, "w": p.used_minutes / total * 100,
                     "bx": planned_at / total * 100, "bw": p.budget_minutes / total * 100})
        used_at += p.used_minutes
        planned_at += p.budget_minutes
    return rows


def _environment(templates: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,  # transcript text is candidate input: everything is escaped, always
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: EvaluationReport, templates: Path) -> str:
    spans = _spans(report)
    return _environment(templates).get_template(TEMPLATE).render(
        r=report,
        decision_colour=DECISION_COLOURS[report.recommendation.decision],
        dimensions=[(d, report.dimensions[d]) for d in Dimension],
        timeline=_timeline(report),
        turns=[(t, highlight(t.text, spans.get(t.index, []))) for t in report.transcript],
    )
