"""What the agent is told: the engine's state rendered through prompt_templates/.

:func:`prompt_context` is the single place that decides which values templates see; candidate-provided strings are
wrapped in :class:`~engine.prompts.Untrusted` here, so no template can use them raw.

Example::

    >>> text = render_instructions(library, engine)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from engine.events import Event, InterviewEnded, PhaseEntered, PhaseTimeout, TimeWarning
from engine.interview import InterviewEngine
from engine.phases import PHASE_ORDER, Phase
from engine.prompts import PromptLibrary, untrusted
from engine.states import RULES

EVENT_TEMPLATES: dict[type[Event], str] = {
    PhaseEntered: "events/phase_entered.j2",
    TimeWarning: "events/time_warning.j2",
    PhaseTimeout: "events/phase_timeout.j2",
    InterviewEnded: "events/interview_ended.j2",
}


def prompt_context(engine: InterviewEngine, *, tools: bool = True) -> dict[str, Any]:
    """Template values; `tools` is False in guided mode, where code (not the LLM) drives the engine."""
    profile = engine.profile
    phase = engine.phase or Phase.WRAP_UP  # after the end, the closing words belong to the wrap-up
    timing = engine.timing
    question = engine.current_question if engine.phase else None
    asked = engine.asked_in_phase(phase)
    settings = engine.settings
    role_known = profile.role is not None
    return {
        "tools": tools,
        "phases": [p.title for p in PHASE_ORDER],
        "target_minutes": round(settings.target_total_minutes),
        "phase": phase.value,
        "phase_title": phase.title,
        "phase_template": RULES[phase].template,
        "goal": RULES[phase].goal,
        "role_known": role_known,
        "role_name": engine.banks.bank(engine.role).name if role_known and engine.role != "generic" else None,
        "position": untrusted(profile.position),
        "candidate_name": untrusted(profile.name),
        "years": profile.years,
        "level": profile.level.value if profile.level else None,
        "phase_minutes_left": round(engine.phase_remaining() / 60, 1),
        "total_minutes_left": round(engine.total_remaining() / 60, 1),
        "time_up": bool(timing and timing.timed_out),
        "current_question": question.text if question else None,
        "questions_asked_in_phase": len(asked),
        "follow_up_cap": settings.follow_up_cap,
        "follow_ups_left": settings.follow_up_cap - asked[-1].follow_ups_used if asked else settings.follow_up_cap,
        "warnings": engine.warning_count,
        "warning_limit": settings.warning_limit,
    }


def render_instructions(library: PromptLibrary, engine: InterviewEngine, *, tools: bool = True) -> str:
    return library.render("system.j2", **prompt_context(engine, tools=tools))


def render_event(library: PromptLibrary, engine: InterviewEngine, event: Event, *, tools: bool = True) -> str:
    """What the agent should say about `event`, as an instruction for its next reply."""
    ctx = prompt_context(engine, tools=tools)
    ctx["event"] = event
    if isinstance(event, PhaseEntered):
        ctx["previous"] = event.previous.value if event.previous else None
        ctx["previous_title"] = event.previous.title if event.previous else None
    if isinstance(event, InterviewEnded):
        ctx["reason"] = event.reason
    return library.render(EVENT_TEMPLATES[type(event)], **ctx)
