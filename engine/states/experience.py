"""Experience: past projects and roles, probed for depth and ownership."""

from engine.phases import Phase
from engine.states.base import PhaseRules

RULES = PhaseRules(Phase.EXPERIENCE, "explore past work, projects and ownership")
