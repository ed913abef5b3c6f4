"""Scenario: an open problem the candidate reasons through aloud."""

from engine.phases import Phase
from engine.states.base import PhaseRules

RULES = PhaseRules(Phase.SCENARIO, "watch the candidate reason through an open problem")
