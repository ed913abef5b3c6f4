"""Interview plans and dry runs: what the engine would do for a role and level, on a fake clock.

Example::

    >>> result = asyncio.run(simulate(settings, banks, "backend", Level.MID, answer_seconds=60))  # doctest: +SKIP
    >>> [row.phase for row in result.timeline]  # doctest: +SKIP
    ['introduction', 'experience', 'technical', 'behavioral', 'scenario', 'wrap_up']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from engine.banks import BankSet
from engine.budget import planned_seconds
from engine.clock import FakeClock
from engine.events import Event
from engine.interview import InterviewEngine
from engine.moves import Move
from engine.phases import PHASE_ORDER, Level, Phase
from engine.settings import InterviewSettings
from engine.snapshot import Profile

WORDS_PER_SECOND = 2.5  # a calm interviewer speaks about 150 words a minute
AGENT_LATENCY_SECONDS = 1.0  # pause before the agent starts speaking
GENERIC_FOLLOW_UP = "Could you go a little deeper on that?"
THIN_ANSWER = "I did some of that."


class PlannedPhase(BaseModel):
    name: str
    budget_seconds: float
    questions: list[str]


class TimelineRow(BaseModel):
    phase: str
    start_s: float
    end_s: float
    budget_s: float
    questions_asked: list[str]
    end_reason: str | None


class InterviewPlan(BaseModel):
    role: str
    level: Level
    phases: list[PlannedPhase]
    total_seconds: float
    timeline: list[TimelineRow] | None = None
    end_reason: str | None = None


def plan(settings: InterviewSettings, banks: BankSet, role: str, level: Level) -> InterviewPlan:
    """The planned budgets and the bank questions that fit them, in the order they would be asked."""
    budgets = planned_seconds(settings)
    phases = []
    for phase in PHASE_ORDER:
        limits, chosen, minutes = settings.phases[phase], [], 0.0
        for q in banks.questions(role, level, phase):
            if len(chosen) >= limits.max_questions:
                break
            if len(chosen) >= limits.min_questions and (minutes + q.minutes) * 60 > budgets[phase]:
                continue
            chosen.append(q.id)
            minutes += q.minutes
        phases.append(PlannedPhase(name=phase.value, budget_seconds=budgets[phase], questions=chosen))
    return InterviewPlan(role=banks.bank(role).role, level=level, phases=phases,
                         total_seconds=sum(budgets.values()))


@dataclass
class SimulationTrace:
    events: list[Event] = field(default_factory=list)


async def simulate(
    settings: InterviewSettings,
    banks: BankSet,
    role: str,
    level: Level,
    answer_seconds: float,
    *,
    trace: SimulationTrace | None = None,
) -> InterviewPlan:
    """Run the engine on a fake clock with a candidate who answers everything in `answer_seconds`.

    Every answer is thin (it touches none of the expected points), so the engine's own rule for it
    (:meth:`InterviewEngine.take_answer`) asks every follow-up the cap allows: the longest interview the banks
    make. The interviewer speaks at a calm pace.
    """
    clock = FakeClock()
    engine = InterviewEngine(settings, banks, clock,
                             profile=Profile(role=banks.bank(role).role, level=level, source="preset"))
    if trace is not None:
        engine.subscribe(trace.events.append)

    async def elapse(seconds: float) -> None:
        clock.advance(seconds)
        await engine.poll()

    async def exchange(text: str) -> None:
        await elapse(AGENT_LATENCY_SECONDS + len(text.split()) / WORDS_PER_SECOND)
        await elapse(answer_seconds)

    await engine.start()
    nxt = await engine.next_question()
    words = nxt.question.text if nxt.question else ""
    while not engine.ended and words:
        await exchange(words)
        outcome = await engine.take_answer(THIN_ANSWER)
        if outcome.move is Move.FOLLOW_UP:
            words = outcome.follow_up or GENERIC_FOLLOW_UP
        else:
            words = outcome.next.question.text if outcome.next and outcome.next.question else ""
    result = plan(settings, banks, role, level)
    snap = engine.snapshot()
    result.timeline = [
        TimelineRow(
            phase=t.phase.value,
            start_s=round(t.started_at, 1),
            end_s=round(t.ended_at if t.ended_at is not None else snap.elapsed_seconds, 1),
            budget_s=round(t.budget_seconds, 1),
            questions_asked=[a.id for a in snap.asked if a.phase == t.phase],
            end_reason=t.end_reason,
        )
        for t in snap.phases
    ]
    result.total_seconds = round(snap.elapsed_seconds, 1)
    result.end_reason = snap.end_reason
    return result


async def advance_to(engine: InterviewEngine, phase: Phase) -> None:
    """Drive a started engine until `phase` is current with its first question asked (previews and tests)."""
    while not engine.ended:
        if engine.phase is phase and engine.asked_in_phase():
            return
        if engine.phase is phase or await engine.end_phase() is not None:
            await engine.next_question()
    raise ValueError(f"the interview ended before reaching {phase.value}")
