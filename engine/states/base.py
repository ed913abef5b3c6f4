"""What differs between phases: their template and when the agent may leave them early."""

from __future__ import annotations

from dataclasses import dataclass

from engine.phases import Phase
from engine.snapshot import Profile


@dataclass(frozen=True)
class PhaseView:
    """What a phase rule may look at; built by the engine."""

    questions_asked: int
    min_questions: int
    time_up: bool
    profile: Profile


@dataclass(frozen=True)
class PhaseRules:
    phase: Phase
    goal: str

    @property
    def template(self) -> str:
        return f"phases/{self.phase.value}.j2"

    def leave_blocker(self, view: PhaseView) -> str | None:
        """Why the agent may not end this phase yet, or None. Time running out always allows leaving."""
        if view.time_up or view.questions_asked >= view.min_questions:
            return None
        return f"ask at least {view.min_questions} question(s) in this phase first ({view.questions_asked} so far)"
