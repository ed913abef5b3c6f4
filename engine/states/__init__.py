"""One module per phase; :data:`RULES` maps each phase to its rules."""

from engine.phases import Phase
from engine.states import behavioral, experience, introduction, scenario, technical, wrap_up
from engine.states.base import PhaseRules, PhaseView

RULES: dict[Phase, PhaseRules] = {
    m.RULES.phase: m.RULES for m in (introduction, experience, technical, behavioral, scenario, wrap_up)
}

__all__ = ["RULES", "PhaseRules", "PhaseView"]
