"""The agent's side of the engine: every engine call the interviewer makes, and what the LLM should say next.

Both ways of running an interview go through here with the same engine calls: the LLM's function tools
(:class:`pipeline.agent.InterviewAgent`) and guided mode, where the code picks each step itself after a candidate
turn (:meth:`InterviewDriver.answer_received`). Every call returns a :class:`Step`: an instruction for the LLM's
next words, written from the engine's state and the prompt templates, never from candidate speech.

Engine events that happen *during* a call (the phase moved on, the interview ended) are folded into that call's
step; :func:`collecting` tells an event listener whether it runs inside such a call or on a timer.

Example::

    >>> driver = InterviewDriver(engine, prompts)           # doctest: +SKIP
    >>> (await driver.next_question()).say                  # doctest: +SKIP
    'Ask this question now, in your own words: Tell me about a project you are proud of.'
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, TypeVar

from engine.events import Event, InterviewEnded, PhaseEntered, PhaseTimeout, TimeWarning
from engine.instructions import prompt_context, render_event, render_instructions
from engine.interview import InterviewEngine
from engine.phases import Phase
from engine.prompts import PromptLibrary
from pipeline.introduction import parse_introduction

T = TypeVar("T")

SHORT_ANSWER_WORDS = 12  # guided mode: answers shorter than this get one follow-up, while the cap allows
MAX_YEARS = 60.0
EndReason = Literal["completed", "candidate_request"]
RESUMED_TEMPLATE = "events/resumed.j2"

_collected: ContextVar[list[Event] | None] = ContextVar("sima_driver_events", default=None)


def collecting() -> list[Event] | None:
    """The events of the driver call running in this task, or None outside of one (a timer fired)."""
    return _collected.get()


@dataclass(frozen=True)
class Step:
    """What the LLM is told to say next; `ended` once the interview is over (the session then closes)."""

    say: str
    ended: bool = False


class InvalidAnswer(ValueError):
    """A tool was called with values that cannot be right; the message is for the LLM."""


class InterviewDriver:
    def __init__(self, engine: InterviewEngine, prompts: PromptLibrary, *, guided: bool = False):
        self.engine = engine
        self.prompts = prompts
        self.guided = guided
        engine.subscribe(self._collect)

    @staticmethod
    def _collect(event: Event) -> None:
        if (events := collecting()) is not None:
            events.append(event)

    async def _call(self, call: Awaitable[T]) -> tuple[T, list[Event]]:
        events: list[Event] = []
        token = _collected.set(events)
        try:
            return await call, events
        finally:
            _collected.reset(token)

    def render(self, event: Event) -> str:
        """The template text for `event`; in guided mode without any mention of tools."""
        return render_event(self.prompts, self.engine, event, tools=not self.guided)

    def instructions(self) -> str:
        """The agent's whole instructions for the engine's current state."""
        return render_instructions(self.prompts, self.engine, tools=not self.guided)

    def _with_events(self, say: str, events: list[Event]) -> Step:
        """`say`, unless the call moved the interview on: then the transition (or the goodbye) is what to say."""
        ended = [e for e in events if isinstance(e, InterviewEnded)]
        if ended or self.engine.ended:
            snap = self.engine.snapshot()
            goodbye = ended[-1] if ended else InterviewEnded(snap.ended_at or 0.0, snap.end_reason or "completed")
            return Step(self.render(goodbye), ended=True)
        entered = [e for e in events if isinstance(e, PhaseEntered)]
        if entered:
            return Step(self.render(entered[-1]))
        notes = [self.render(e) for e in events if isinstance(e, TimeWarning | PhaseTimeout)]
        return Step(" ".join([say, *notes]))

    # ----- the interviewer's moves ---------------------------------------------------------------------------

    async def record_profile(self, name: str, role: str, years: float) -> Step:
        """Record the candidate's name, role (matched against the banks) and experience."""
        if not name.strip() or not role.strip():
            raise InvalidAnswer("name and role must not be empty: ask the candidate for them")
        if not 0 <= years <= MAX_YEARS:
            raise InvalidAnswer(f"years_of_experience must be between 0 and {MAX_YEARS:g}: ask the candidate again")
        profile, events = await self._call(self.engine.set_profile(name=name, role_text=role, years=years))
        level = profile.level.value if profile.level else "unknown"
        bank = self.engine.banks.bank(self.engine.role)
        if profile.role and bank.role == profile.role and bank.role != "generic":
            fit = f"Profile recorded: {bank.name} role, {level} level."
        else:
            fit = f"Profile recorded. No dedicated question set for that role: general questions, {level} level."
        return self._with_events(f"{fit} Now call next_question.", events)

    async def next_question(self) -> Step:
        """The next bank question, chosen by the engine; moving to the next phase when this one is done."""
        nxt, events = await self._call(self.engine.next_question())
        if nxt.question is None:  # the interview is over: the goodbye
            return self._with_events("", events)
        return self._with_events(self._ask(nxt.question.text), events)

    async def follow_up(self) -> Step:
        """Permission for one follow-up on the current question (the engine caps them)."""
        return (await self._follow_up())[1]

    async def _follow_up(self) -> tuple[bool, Step]:
        follow, events = await self._call(self.engine.follow_up())
        if not follow.allowed:
            return False, self._with_events(f"No follow-up: {follow.reason}. Call next_question.", events)
        if follow.text:
            say = self._ask(follow.text, follow_up=True)
        elif self.guided:
            say = "Ask the candidate one short follow-up question about their last answer. Do not answer it yourself."
        else:
            say = "Ask one short follow-up of your own on the candidate's last answer, about the same question."
        return True, self._with_events(say, events)

    def _ask(self, question: str, *, follow_up: bool = False) -> str:
        """The instruction to ask `question`; a small model in guided mode gets the exact words, not a paraphrase."""
        kind = "follow-up" if follow_up else "question"
        if self.guided:
            return (f"Reply with a short acknowledgement, then put this {kind} to the candidate, word for word, "
                    f"and stop; you never answer it yourself: \"{question}\"")
        return f"Ask this {kind} now, in your own words: {question}"

    async def add_note(self, text: str) -> Step:
        _, events = await self._call(self.engine.add_note(text))
        return self._with_events("Noted. Continue the interview.", events)

    async def flag_behaviour(self, reason: str) -> Step:
        count, events = await self._call(self.engine.flag_behaviour(reason))
        limit = self.engine.settings.warning_limit
        say = (f"Warning {count} of {limit} recorded. Calmly ask the candidate to keep the conversation professional, "
               f"then continue with the current question.")
        return self._with_events(say, events)

    async def end(self, reason: EndReason) -> Step:
        """End the interview: after the wrap-up, or because the candidate wants to stop. No phase is skipped."""
        if reason == "candidate_request":
            _, events = await self._call(self.engine.end("candidate_request"))
            return self._with_events("", events)
        phase = self.engine.phase
        if phase is not Phase.WRAP_UP:
            title = phase.title.lower() if phase else "current"
            return Step(f"The interview cannot end yet: it is in the {title} phase. Call next_question to continue.")
        blocker, events = await self._call(self.engine.end_phase())
        if blocker:
            return self._with_events(f"The interview cannot end yet: {blocker}. Call next_question.", events)
        return self._with_events("", events)

    # ----- guided mode and timers ----------------------------------------------------------------------------

    async def answer_received(self, answer: str) -> Step:
        """Guided mode: after each candidate turn, record who they are (introduction) and pick the next step."""
        profile = self.engine.profile
        early: list[Event] = []  # a timer that came due fires with the first engine call: its events count too
        if self.engine.phase is Phase.INTRODUCTION and (profile.name is None or profile.role is None):
            facts = parse_introduction(answer, self.engine.banks)
            if facts.name or facts.role_text or facts.years is not None:
                _, early = await self._call(
                    self.engine.set_profile(name=facts.name, role_text=facts.role_text, years=facts.years))
        asked = self.engine.asked_in_phase() if self.engine.phase else []
        step = None
        if asked and asked[-1].follow_ups_used == 0 and len(answer.split()) < SHORT_ANSWER_WORDS:
            allowed, step = await self._follow_up()
            step = step if allowed or step.ended else None
        step = step or await self.next_question()
        return step if step.ended or not early else self._with_events(step.say, early)

    async def announce(self, event: Event) -> Step:
        """What to say about an event a timer raised (outside any call), doing the engine's part first."""
        if isinstance(event, PhaseEntered):
            # a forced move: the new phase needs its first question before the transition can be spoken
            _, events = await self._call(self.engine.next_question())
            return self._with_events("", events) if self.engine.ended else Step(self.render(event))
        if isinstance(event, PhaseTimeout) and self.guided:
            return await self.next_question()  # guided mode has no LLM to call next_question
        if isinstance(event, InterviewEnded):
            return self._with_events("", [event])
        return Step(self.render(event))

    async def resume(self) -> Step:
        """What to say when a candidate returns to an interrupted interview (the current question again)."""
        events: list[Event] = []
        if self.engine.phase is not None and not self.engine.asked_in_phase():
            _, events = await self._call(self.engine.next_question())
        if self.engine.ended:
            return self._with_events("", events)
        return Step(self.prompts.render(RESUMED_TEMPLATE, **prompt_context(self.engine, tools=not self.guided)))
