"""Wrap-up: the candidate's questions, then a warm close; leaving it ends the interview."""

from engine.phases import Phase
from engine.states.base import PhaseRules

RULES = PhaseRules(Phase.WRAP_UP, "answer the candidate's questions and close warmly")
