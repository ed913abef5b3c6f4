"""What the recruiter's interview page shows, computed from stored rows: pure functions, easy to test.

Example::

    >>> clock(75.4), clock(None)
    ('1:15', '')
    >>> [(b.phase, b.used, b.over) for b in phase_timeline({"elapsed_seconds": 200, "phases": [
    ...     {"phase": "introduction", "budget_seconds": 120, "started_at": 0, "ended_at": 150},
    ...     {"phase": "experience", "budget_seconds": 240, "started_at": 150}]})]
    [('introduction', 150.0, True), ('experience', 50.0, False)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.transcript import Speaker, Turn

RATING_KEYS = ("technical_competency", "problem_solving", "communication", "experience", "culture_fit")


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = max(round(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass
class TurnView:
    index: int
    speaker: str
    text: str
    at: str
    latency: float | None  # the agent's reply: end of the candidate's turn → its first audio (or text)


@dataclass
class PhaseSection:
    phase: str
    turns: list[TurnView] = field(default_factory=list)


def transcript_by_phase(turns: Sequence[Turn]) -> list[PhaseSection]:
    sections: list[PhaseSection] = []
    for t in turns:
        name = t.phase.value if t.phase else "—"
        if not sections or sections[-1].phase != name:
            sections.append(PhaseSection(name))
        latency = t.metrics.e2e_latency if t.metrics and t.speaker is Speaker.AGENT else None
        sections[-1].turns.append(TurnView(t.index, "SIMA" if t.speaker is Speaker.AGENT else "Candidate", t.text,
                                           clock(t.started_at), latency))
    return sections


@dataclass
class PhaseBar:
    phase: str
    budget: float
    used: float
    over: bool
    budget_pct: float = 0.0  # of the chart's width
    used_pct: float = 0.0


def phase_timeline(snapshot: dict[str, Any] | None) -> list[PhaseBar]:
    """Each phase's time used against its budget, from the engine snapshot (a running phase counts until now)."""
    if not snapshot:
        return []
    elapsed = float(snapshot.get("elapsed_seconds") or 0)
    bars = []
    for p in snapshot.get("phases") or []:
        end = p.get("ended_at")
        used = max((elapsed if end is None else float(end)) - float(p["started_at"]), 0.0)
        bars.append(PhaseBar(p["phase"], float(p["budget_seconds"]), used, used > float(p["budget_seconds"])))
    widest = max([b.budget for b in bars] + [b.used for b in bars] + [1.0])
    for b in bars:
        b.budget_pct, b.used_pct = round(100 * b.budget / widest, 1), round(100 * b.used / widest, 1)
    return bars


def latencies(turns: Sequence[Turn]) -> list[tuple[int, float]]:
    return [(t.index, t.metrics.e2e_latency) for t in turns
            if t.speaker is Speaker.AGENT and t.metrics and t.metrics.e2e_latency is not None]


def per_question(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's per-question section (reports written before it existed have none)."""
    items = report.get("per_question")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def phase_scores(report: dict[str, Any]) -> list[tuple[str, float | None]]:
    """Each phase's score in the report; None where the phase was not assessed."""
    given = report.get("phase_scores")
    return [(str(k), v if isinstance(v, int | float) else None) for k, v in given.items()] \
        if isinstance(given, dict) else []


def ratings(report: dict[str, Any]) -> list[tuple[str, float]]:
    given = report.get("ratings") or {}
    return [(k.replace("_", " "), float(given[k])) for k in RATING_KEYS if isinstance(given.get(k), int | float)]
