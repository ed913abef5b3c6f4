"""Time budgets: the planned split of an interview, and rebalancing what is left when a phase starts.

Rules (all in interview seconds):
- a phase's budget is its planned share of the time left until the target total, so time saved or overrun earlier
  flows to (or is taken from) the phases still to come;
- a phase never gets less than `min_phase_seconds` nor more than 1.5× its plan, and always leaves room, within the hard
  limit, for the minimum of every later phase plus one grace period.

Example::

    >>> from engine.settings import InterviewSettings
    >>> s = InterviewSettings()
    >>> round(phase_budget(s, Phase.EXPERIENCE, elapsed=60.0))  # introduction took 1 of its 2 minutes
    252

(22 minutes planned, 1 used: experience gets its 4 of the 20 planned minutes left, 4/20 of 1260 s.)
"""

from __future__ import annotations

from engine.phases import PHASE_ORDER, Phase
from engine.settings import InterviewSettings

STRETCH = 1.5


def planned_seconds(settings: InterviewSettings) -> dict[Phase, float]:
    return {p: settings.phases[p].minutes * 60 for p in PHASE_ORDER}


def phase_budget(settings: InterviewSettings, phase: Phase, elapsed: float) -> float:
    """Budget for `phase` entered at interview time `elapsed`."""
    plan = planned_seconds(settings)
    rest = PHASE_ORDER[PHASE_ORDER.index(phase):]
    later = rest[1:]
    share = max(settings.target_total_seconds - elapsed, 0.0) * plan[phase] / sum(plan[p] for p in rest)
    budget = min(max(share, settings.min_phase_seconds), plan[phase] * STRETCH)
    room = settings.hard_limit_seconds - elapsed - settings.min_phase_seconds * len(later) - settings.grace_seconds
    return max(min(budget, room), 0.0)
