"""Events the engine emits for the pipeline to turn into instruction updates and spoken transitions.

`at` is interview time in seconds since the interview started.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.phases import Phase


@dataclass(frozen=True)
class Event:
    at: float


@dataclass(frozen=True)
class PhaseEntered(Event):
    phase: Phase
    previous: Phase | None
    budget_seconds: float
    reason: str  # "start", "questions_done", "agent", "timeout"


@dataclass(frozen=True)
class TimeWarning(Event):
    phase: Phase
    remaining_seconds: float


@dataclass(frozen=True)
class PhaseTimeout(Event):
    """The phase's budget is spent: finish the current answer, then move on (forced after the grace)."""

    phase: Phase
    grace_seconds: float


@dataclass(frozen=True)
class InterviewEnded(Event):
    reason: str  # "completed", "hard_limit", "misconduct", "candidate_left", "agent"
