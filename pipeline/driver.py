"""The agent's side of the engine: every engine call the interviewer makes, and what the LLM should say next.

Both ways of running an interview go through here with the same engine calls: the LLM's function tools
(:class:`pipeline.agent.InterviewAgent`) and guided mode, where the code picks each step itself after a candidate
turn (:meth:`InterviewDriver.answer_received`). Every call returns a :class:`Step`: an instruction for the LLM's
next words and the same as exact words to speak (:mod:`pipeline.phrasing`), written from the engine's state and the
prompt templates, never from candidate speech. Under `phrasing: verbatim` the agent speaks the words itself.

Engine events that happen *during* a call (the phase moved on, the interview ended) are folded into that call's
step; :func:`collecting` tells an event listener whether it runs inside such a call or on a timer.

Example::

    >>> driver = InterviewDriver(engine, prompts)           # doctest: +SKIP
    >>> step = await driver.next_question()                 # doctest: +SKIP
    >>> step.say, step.words                                 # doctest: +SKIP
    ('Ask this question now, in your own words: Tell me about a project.', 'Tell me about a project.')
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, TypeVar

from engine.answers import AnswerKind
from engine.events import Event, InterviewEnded, PhaseEntered, PhaseTimeout, TimeWarning
from engine.instructions import render_instructions
from engine.interview import AnswerOutcome, InterviewEngine
from engine.moves import Move
from engine.phases import Phase
from engine.prompts import PromptLibrary
from pipeline.phrasing import (
    CONDUCT_WARNING,
    DECLINE,
    ENGLISH,
    LATE,
    MOVE_ON,
    PROBE_CLAIM,
    REDIRECT,
    SILENCE,
    SIMPLER,
    Line,
    Phrasing,
)
from pipeline.settings import Phrasing as PhrasingMode

T = TypeVar("T")

MAX_YEARS = 60.0
# kinds of turn that answered nothing: moving on after them is said as such
_MOVE_ON_KINDS = (AnswerKind.NON_ANSWER, AnswerKind.OFF_TOPIC, AnswerKind.SILENCE, AnswerKind.OTHER_LANGUAGE)
EndReason = Literal["completed", "candidate_request"]

_collected: ContextVar[list[Event] | None] = ContextVar("sima_driver_events", default=None)


def collecting() -> list[Event] | None:
    """The events of the driver call running in this task, or None outside of one (a timer fired)."""
    return _collected.get()


@dataclass(frozen=True)
class Step:
    """What to say next: `say` instructs the LLM, `words` are the exact words ("" where only the LLM can answer).

    `ended` once the interview is over (the session then closes); `acknowledge` is False where the words already
    respond to the candidate's answer, so no acknowledgement goes before them.
    """

    say: str
    words: str = ""
    ended: bool = False
    acknowledge: bool = True

    @classmethod
    def of(cls, line: Line, *, ended: bool = False, acknowledge: bool = True) -> Step:
        return cls(line.say, line.words, ended=ended, acknowledge=acknowledge and not ended)

    @property
    def line(self) -> Line:
        return Line(self.say, self.words)

    def after(self, *lines: Line, acknowledge: bool = True) -> Step:
        """This step with `lines` said first (a queued notice, a reply to the candidate's question)."""
        return Step.of(Line.join([*lines, self.line]), ended=self.ended, acknowledge=acknowledge and self.acknowledge)


class InvalidAnswer(ValueError):
    """A tool was called with values that cannot be right; the message is for the LLM."""


class InterviewDriver:
    """`phrasing="verbatim"` (guided only) tells the agent to speak each step's words instead of the LLM's."""

    def __init__(self, engine: InterviewEngine, prompts: PromptLibrary, *, guided: bool = False,
                 phrasing: PhrasingMode = "llm"):
        if phrasing == "verbatim" and not guided:
            raise ValueError("verbatim phrasing needs guided mode: with tools, the LLM decides what comes next")
        self.engine = engine
        self.prompts = prompts
        self.guided = guided
        self.verbatim = phrasing == "verbatim"
        self.phrasing = Phrasing(prompts, engine, tools=not guided)
        if guided:
            engine.hold_phases_for_answers()  # every answer reaches the engine, which moves the phases on
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

    def instructions(self) -> str:
        """The agent's whole instructions for the engine's current state."""
        return render_instructions(self.prompts, self.engine, tools=not self.guided)

    def _with_events(self, line: Line, events: list[Event]) -> Step:
        """`line`, unless the call moved the interview on: then the transition (or the goodbye) is what to say."""
        ended = [e for e in events if isinstance(e, InterviewEnded)]
        if ended or self.engine.ended:
            snap = self.engine.snapshot()
            goodbye = ended[-1] if ended else InterviewEnded(snap.ended_at or 0.0, snap.end_reason or "completed")
            return Step.of(self.phrasing.event(goodbye), ended=True)
        entered = [e for e in events if isinstance(e, PhaseEntered)]
        if entered:
            return Step.of(self.phrasing.event(entered[-1]))
        # one notice: the phase's time being up makes its earlier warning moot
        notes = [e for e in events if isinstance(e, PhaseTimeout)][-1:] or [
            e for e in events if isinstance(e, TimeWarning)][-1:]
        return Step.of(line).after(*(self.phrasing.event(e) for e in notes))

    @staticmethod
    def _tool(text: str) -> Line:
        """A message for the tool-calling LLM only: there are no words to speak for it."""
        return Line(text)

    async def open(self, greeting: PhaseEntered) -> Step:
        """The first words: the greeting; in guided mode the first question comes with it (no tool will ask it)."""
        events: list[Event] = []
        if self.guided and not self.engine.asked_in_phase():
            _, events = await self._ask_next()
        return self._with_events(Line(""), [greeting, *events])

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
        return self._with_events(self._tool(f"{fit} Now call next_question."), events)

    async def next_question(self) -> Step:
        """The next bank question, chosen by the engine; moving to the next phase when this one is done."""
        return self._with_events(*await self._ask_next())

    async def _ask_next(self) -> tuple[Line, list[Event]]:
        """The next question (nothing once the interview is over: the goodbye), and the events of getting it."""
        nxt, events = await self._call(self.engine.next_question())
        return (self.phrasing.question(nxt.question.text) if nxt.question else Line("")), events

    async def follow_up(self) -> Step:
        """Permission for one follow-up on the current question (the engine caps them)."""
        _, line, events = await self._follow_up()
        return self._with_events(line, events)

    async def _follow_up(self) -> tuple[bool, Line, list[Event]]:
        follow, events = await self._call(self.engine.follow_up())
        if not follow.allowed:
            return False, self._tool(f"No follow-up: {follow.reason}. Call next_question."), events
        line = self.phrasing.question(follow.text, follow_up=True) if follow.text else self.phrasing.probe()
        return True, line, events

    async def add_note(self, text: str) -> Step:
        _, events = await self._call(self.engine.add_note(text))
        return self._with_events(self._tool("Noted. Continue the interview."), events)

    async def flag_behaviour(self, reason: str) -> Step:
        count, events = await self._call(self.engine.flag_behaviour(reason))
        limit = self.engine.settings.warning_limit
        say = (f"Warning {count} of {limit} recorded. Calmly ask the candidate to keep the conversation professional, "
               f"then continue with the current question.")
        return self._with_events(self._tool(say), events)

    async def end(self, reason: EndReason) -> Step:
        """End the interview: after the wrap-up, or because the candidate wants to stop. No phase is skipped."""
        if reason == "candidate_request":
            _, events = await self._call(self.engine.end("candidate_request"))
            return self._with_events(Line(""), events)
        phase = self.engine.phase
        if phase is not Phase.WRAP_UP:
            title = phase.title.lower() if phase else "current"
            return Step(f"The interview cannot end yet: it is in the {title} phase. Call next_question to continue.")
        blocker, events = await self._call(self.engine.end_phase())
        if blocker:
            return self._with_events(self._tool(f"The interview cannot end yet: {blocker}. Call next_question."),
                                     events)
        return self._with_events(Line(""), events)

    # ----- guided mode and timers ----------------------------------------------------------------------------

    async def answer_received(self, answer: str, deferred: Sequence[Event] = (), *,
                              model: AnswerKind | None = None) -> Step:
        """Guided mode: after each candidate turn, the engine reads it and decides what follows; this says it.

        `deferred` are timer events raised while the candidate was answering, not said yet: they are part of this
        step (a phase change, a time warning). `model` is the model's reading of the turn, if it gave one.
        """
        outcome, events = await self._call(self.engine.take_answer(answer, model=model,
                                                                   own_follow_ups=not self.verbatim))
        if outcome.move is Move.HIRING_TEAM:
            # the hiring team's note first, then whatever comes next (often the goodbye)
            return self._with_events(self._outcome_next(outcome), [*deferred, *events]).after(
                self.phrasing.hiring_team(), acknowledge=False)
        step = self._with_events(self._outcome_line(outcome), [*deferred, *events])
        return Step(step.say, step.words, ended=step.ended, acknowledge=step.acknowledge and outcome.acknowledge)

    def _outcome_next(self, outcome: AnswerOutcome) -> Line:
        nxt = outcome.next
        return self.phrasing.question(nxt.question.text) if nxt and nxt.question else Line("")

    def _outcome_line(self, outcome: AnswerOutcome) -> Line:
        """The words for what the engine decided (a phase change or the end, folded in later, override them)."""
        move, limit = outcome.move, self.engine.settings.warning_limit
        if move is Move.NEXT:
            line = self._outcome_next(outcome)
            if outcome.kind in _MOVE_ON_KINDS:  # nothing was answered: say so plainly, never "thank you"
                return Line.join([self.phrasing.scripted(MOVE_ON), line])
            return line
        if move is Move.FOLLOW_UP:
            return (self.phrasing.question(outcome.follow_up, follow_up=True) if outcome.follow_up
                    else self.phrasing.probe(outcome.missed))
        if move is Move.REPEAT:
            return self.phrasing.repeat()
        if move is Move.ANSWER_LATER:
            return self.phrasing.answer_later()
        if move is Move.PROBE_CLAIM:
            return self.phrasing.scripted(PROBE_CLAIM)
        if move is Move.SIMPLER:
            return self.phrasing.scripted(SIMPLER)
        template = {Move.REDIRECT: REDIRECT, Move.PROMPT: SILENCE, Move.ASK_ENGLISH: ENGLISH, Move.DECLINE: DECLINE,
                    Move.WARN: CONDUCT_WARNING, Move.LATE: LATE}[move]
        return self.phrasing.again(template, warnings=outcome.warnings, warning_limit=limit)

    async def silence(self, deferred: Sequence[Event] = ()) -> Step:
        """Guided mode: the candidate has said nothing for a long while after a question."""
        return await self.answer_received("", deferred)

    async def announce(self, *events: Event) -> Step:
        """What to say about events timers raised (outside any call) that nobody has heard yet, engine part first."""
        ended = [e for e in events if isinstance(e, InterviewEnded)]
        if ended:
            return self._with_events(Line(""), ended)
        # a forced move needs the new phase's first question before the transition can be said; and in guided mode
        # a phase whose time is up moves on at once (there is no LLM to call next_question)
        if any(isinstance(e, PhaseEntered) or (self.guided and isinstance(e, PhaseTimeout)) for e in events):
            line, new = await self._ask_next()
            return self._with_events(line, [*events, *new])
        return self._with_events(Line(""), list(events))

    async def resume(self) -> Step:
        """What to say when a candidate returns to an interrupted interview (the current question again)."""
        events: list[Event] = []
        if self.engine.phase is not None and not self.engine.asked_in_phase():
            _, events = await self._call(self.engine.next_question())
        if self.engine.ended:
            return self._with_events(Line(""), events)
        return Step.of(self.phrasing.resumed())
