"""Technical: role- and level-specific knowledge, probing for depth rather than recall."""

from engine.phases import Phase
from engine.states.base import PhaseRules

RULES = PhaseRules(Phase.TECHNICAL, "assess role-specific technical depth")
