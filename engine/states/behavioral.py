"""Behavioral: STAR-style questions on collaboration, conflict, failure and feedback."""

from engine.phases import Phase
from engine.states.base import PhaseRules

RULES = PhaseRules(Phase.BEHAVIORAL, "assess collaboration and conduct through past situations")
