"""Introduction: greet, learn the candidate's name, role and experience; the role picks the question bank."""

from __future__ import annotations

from dataclasses import dataclass

from engine.phases import Phase
from engine.states.base import PhaseRules, PhaseView


@dataclass(frozen=True)
class IntroductionRules(PhaseRules):
    def leave_blocker(self, view: PhaseView) -> str | None:
        if not view.time_up and view.profile.role is None:
            return "record the candidate's profile (name, role, experience) first"
        return super().leave_blocker(view)


RULES = IntroductionRules(Phase.INTRODUCTION, "greet the candidate and learn their name, target role and experience")
