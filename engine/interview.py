"""The interview engine: every rule of a SIMA interview, driven by a `transitions` AsyncMachine on an injected clock.

The pipeline (or a simulation) calls the async methods below; the engine answers and emits events
(:mod:`engine.events`). Timers are plain asyncio deadlines read from the clock — never the threading `Timeout`
state feature, whose callback silently never runs under asyncio.

Example::

    >>> import asyncio
    >>> from engine.clock import FakeClock
    >>> async def demo(banks):
    ...     clock = FakeClock()
    ...     engine = InterviewEngine(InterviewSettings(), banks, clock)
    ...     await engine.start()
    ...     await engine.set_profile(name="Ada", role_text="backend developer", years=3)
    ...     q = await engine.next_question()
    ...     clock.advance(60)
    ...     await engine.poll()
    ...     return engine.phase, q.question.id
    >>> asyncio.run(demo(load_banks(Path("question_banks"))))  # doctest: +SKIP
    (<Phase.INTRODUCTION: 'introduction'>, 'gen-common-intro-01')
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from transitions.extensions.asyncio import AsyncMachine

from engine.answers import AnswerKind, Classification, asks_question, classify, needs_model, quote
from engine.banks import GENERIC_ROLE, BankSet, Question
from engine.budget import phase_budget
from engine.clock import Clock, sleep_or_wake
from engine.coverage import overlap, pick_follow_up
from engine.events import Event, InterviewEnded, PhaseEntered, PhaseTimeout, TimeWarning
from engine.introduction_facts import parse_introduction
from engine.moves import MISCONDUCT, Move, decide
from engine.phases import ENDED, PHASE_ORDER, Level, Phase
from engine.settings import InterviewSettings
from engine.snapshot import AnswerNote, AskedQuestion, EngineSnapshot, Note, PhaseTiming, Profile
from engine.states import RULES, PhaseView

log = logging.getLogger(__name__)

Listener = Callable[[Event], Awaitable[None] | None]
PENDING = "pending"
FALLBACK_LEVEL = Level.MID
THIN_ANSWER_WORDS = 12  # a first answer this short gets the bank's first follow-up even if none aims at its gaps
_ACKNOWLEDGED = (AnswerKind.ANSWER, AnswerKind.PARTIAL)
LATE_MIN_SHARED = 2  # content words a late answer shares with the question it answers (one may be chance)


@dataclass(frozen=True)
class NextQuestion:
    """What the agent should ask next; `question` is None once the interview has ended."""

    phase: Phase | None
    question: Question | None
    phase_changed: bool


@dataclass(frozen=True)
class FollowUp:
    allowed: bool
    text: str | None  # the bank's next follow-up, or None: the agent phrases its own
    remaining: int
    reason: str = ""


@dataclass(frozen=True)
class AnswerOutcome:
    """How the engine read a candidate turn and what follows it.

    `question_id` is the question the turn answered; `follow_up` the bank follow-up to ask (None under
    FOLLOW_UP: the interviewer's own, aimed at `missed`, the expected points not covered yet); `next` the question
    asked under NEXT; `warnings` the count so far.
    """

    classification: Classification
    move: Move
    question_id: str | None
    follow_up: str | None = None
    next: NextQuestion | None = None
    warnings: int = 0
    missed: tuple[str, ...] = ()

    @property
    def kind(self) -> AnswerKind:
        return self.classification.kind

    @property
    def acknowledge(self) -> bool:
        """Whether a short acknowledgement fits before the words that follow: only after an answer."""
        return self.kind in _ACKNOWLEDGED and self.move in (Move.NEXT, Move.FOLLOW_UP, Move.PROBE_CLAIM)


class _PhaseMachine:
    """The `transitions` model; kept apart so the machine's generated methods don't crowd the engine's API."""

    state: str


class InterviewEngine:
    def __init__(
        self,
        settings: InterviewSettings,
        banks: BankSet,
        clock: Clock,
        *,
        interview_id: str | None = None,
        profile: Profile | None = None,
        snapshot: EngineSnapshot | None = None,
    ):
        self.settings = settings
        self.banks = banks
        self.clock = clock
        self._snap = snapshot.model_copy(deep=True) if snapshot else EngineSnapshot(
            interview_id=interview_id or uuid.uuid4().hex,
            state=PENDING,
            elapsed_seconds=0.0,
            profile=profile or Profile(),
        )
        self._origin = clock.now() - self._snap.elapsed_seconds
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._answering = False  # the candidate is speaking: a phase's forced end waits for the answer
        self._answer_end = 0.0  # interview time the last answer ended
        self._held = False  # guided: a phase whose time is up moves on with the next answer, never on a timer
        self._fsm = _PhaseMachine()
        states = [PENDING, *(p.value for p in PHASE_ORDER), ENDED]
        self._machine = AsyncMachine(
            model=self._fsm, states=states, initial=self._snap.state, auto_transitions=False
        )
        self._machine.add_transition("begin", PENDING, Phase.INTRODUCTION.value)
        for phase in PHASE_ORDER:
            self._machine.add_transition("advance", phase.value, phase.next.value if phase.next else ENDED)
        self._machine.add_transition("finish", states[:-1], ENDED)

    # ----- reading -------------------------------------------------------------------------------------------

    @classmethod
    def restore(cls, snapshot: EngineSnapshot, settings: InterviewSettings, banks: BankSet, clock: Clock
                ) -> InterviewEngine:
        """Resume from a snapshot with the same remaining budget; time spent while down is not counted."""
        return cls(settings, banks, clock, snapshot=snapshot)

    @property
    def interview_id(self) -> str:
        return self._snap.interview_id

    @property
    def phase(self) -> Phase | None:
        state = self._fsm.state
        return Phase(state) if state not in (PENDING, ENDED) else None

    @property
    def ended(self) -> bool:
        return self._fsm.state == ENDED

    @property
    def warning_count(self) -> int:
        return len(self._snap.warnings)

    @property
    def profile(self) -> Profile:
        return self._snap.profile.model_copy()

    def now(self) -> float:
        """Interview time in seconds; frozen once the interview has ended."""
        if self._snap.ended_at is not None:
            return self._snap.ended_at
        return self.clock.now() - self._origin

    def snapshot(self) -> EngineSnapshot:
        snap = self._snap.model_copy(deep=True)
        snap.state = self._fsm.state
        snap.elapsed_seconds = self.now()
        return snap

    @property
    def timing(self) -> PhaseTiming | None:
        if self.phase is None or not self._snap.phases:
            return None
        return self._snap.phases[-1]

    def phase_remaining(self) -> float:
        t = self.timing
        return max(t.started_at + t.budget_seconds - self.now(), 0.0) if t else 0.0

    def total_remaining(self) -> float:
        return max(self.settings.hard_limit_seconds - self.now(), 0.0)

    def asked_in_phase(self, phase: Phase | None = None) -> list[AskedQuestion]:
        phase = phase or self.phase
        return [a for a in self._snap.asked if a.phase == phase]

    @property
    def current_question(self) -> Question | None:
        asked = self.asked_in_phase()
        return self.banks.question(asked[-1].id) if asked else None

    @property
    def role(self) -> str:
        return self._snap.profile.role or GENERIC_ROLE

    @property
    def level(self) -> Level:
        return self._snap.profile.level or FALLBACK_LEVEL

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # ----- driving -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._transaction() as events:
            if self._fsm.state == PENDING:
                await self._fsm.begin()
                events.append(self._open_phase(Phase.INTRODUCTION, None, "start", self.now()))

    async def poll(self) -> None:
        """Fire every timer that is due: time warnings, phase timeouts, forced advances, the hard stop."""
        async with self._transaction():
            pass

    async def next_question(self) -> NextQuestion:
        """Move on to the next bank question, advancing phases whose time or questions are used up."""
        async with self._transaction() as events:
            return await self._next_question(events)

    async def _next_question(self, events: list[Event]) -> NextQuestion:
        start_phase = self.phase
        while not self.ended:
            phase, timing = self.phase, self.timing
            assert phase is not None and timing is not None
            limits = self.settings.phases[phase]
            asked = len(self.asked_in_phase())
            if timing.timed_out:
                await self._advance("timeout", events)
                continue
            question = self._pick(phase, asked) if asked < limits.max_questions else None
            if question is None:
                await self._advance("questions_done", events)
                continue
            self._snap.asked.append(AskedQuestion(id=question.id, phase=phase, asked_at=self.now()))
            return NextQuestion(phase, question, phase != start_phase)
        return NextQuestion(None, None, True)

    def _follow_up_blocker(self, current: AskedQuestion | None) -> str | None:
        """Why no follow-up may be asked on `current` now, or None."""
        cap = self.settings.follow_up_cap
        if current is None or self.ended or current.phase != self.phase:
            return "no question asked in this phase yet"
        if self.timing is not None and self.timing.timed_out:
            return "this phase's time is up: move on"
        if current.follow_ups_used >= cap:
            return f"follow-up limit of {cap} reached: move on"
        return None

    def _grant_follow_up(self, current: AskedQuestion, index: int | None) -> FollowUp:
        """Count one follow-up on `current`: the bank's `index`-th, or (None) the interviewer's own."""
        bank_q = self.banks.question(current.id)
        text = bank_q.follow_ups[index] if bank_q is not None and index is not None else None
        if index is not None:
            current.follow_ups_asked.append(index)
        current.follow_ups_used += 1
        return FollowUp(True, text, self.settings.follow_up_cap - current.follow_ups_used)

    async def follow_up(self) -> FollowUp:
        """Permission (and the bank's wording) for one more follow-up on the current question (the tool-driven LLM
        asks for one; guided mode's follow-ups come from :meth:`take_answer`)."""
        async with self._transaction():
            asked = self.asked_in_phase() if not self.ended else []
            current = asked[-1] if asked else None
            if (blocker := self._follow_up_blocker(current)) is not None:
                return FollowUp(False, None, 0, blocker)
            assert current is not None
            bank_q = self.banks.question(current.id)
            unused = [i for i in range(len(bank_q.follow_ups) if bank_q else 0) if i not in current.follow_ups_asked]
            return self._grant_follow_up(current, unused[0] if unused else None)

    def wants_judgement(self, text: str) -> bool:
        """Whether the model's reading of `text`, an answer to the last question asked, could change what follows
        (:func:`engine.answers.needs_model`): the pipeline asks the model for it only then."""
        target = self._snap.asked[-1] if self._snap.asked else None
        q = self.banks.question(target.id) if target else None
        if q is None:
            return needs_model(text)
        return needs_model(text, question=q.text, points=q.expected_points, follow_ups=q.follow_ups)

    def hold_phases_for_answers(self) -> None:
        """Guided mode, where the code reads every answer: a phase whose time (and grace) is up never moves on by
        itself under a question still waiting for its answer; the next answer (or a silence, see
        :mod:`engine.moves`) moves it on, so a late answer is never filed under a question asked after it began.
        The hard limit still wins."""
        self._held = True
        self._changed.set()

    def set_answering(self, answering: bool) -> None:
        """The candidate started (True) or stopped (False) speaking. While they speak, a phase whose time is up
        waits for the end of the answer instead of moving on under it; the hard limit still wins."""
        if answering != self._answering:
            self._answering = answering
            if not answering:
                self._answer_end = self.now()
            self._changed.set()

    async def take_answer(self, text: str, *, model: AnswerKind | None = None,
                          own_follow_ups: bool = False) -> AnswerOutcome:
        """Read one candidate turn and carry out what follows it (:mod:`engine.moves`).

        The turn answers the last question asked; if a timer moved the interview to the next phase while it was
        given, it still belongs to that question, and the next phase's first question follows. An introduction
        records the candidate's name, role and experience. `model` is the model's reading of the turn, if any
        (:func:`engine.answers.classify` decides how far it counts). With `own_follow_ups` (an interviewer that
        phrases freely) a partial answer no bank follow-up is aimed at gets one of the interviewer's own, aimed at
        the points it missed. Warnings, notes and the turn's kind are kept in the snapshot; at `warning_limit`
        warnings the interview ends with reason `misconduct`.
        """
        async with self._transaction() as events:
            if self._answering:
                self._answering, self._answer_end = False, self.now()
                self._changed.set()
            target = self._snap.asked[-1] if self._snap.asked and not self.ended else None
            late = self._late_for(text, target)
            if late is not None:
                target = late  # filed under the question it answers; the current one is put again
            question = self.banks.question(target.id) if target else None
            moved = target is None or target.phase != self.phase
            # before any question, the only thing to answer is the greeting: an introduction
            introduced = target is None or target.phase is Phase.INTRODUCTION
            # who the candidate is may come late (an introduction given after the interview moved on): it is read
            # from any answer while the profile still lacks it
            self._record_introduction(text)
            c = classify(text, question=question.text if question else "",
                         points=question.expected_points if question else (),
                         follow_ups=question.follow_ups if question else (),
                         covered_before=frozenset(target.covered) if target else frozenset(), model=model)
            p = self._snap.profile
            if introduced and c.kind is AnswerKind.PARTIAL and p.name and p.role and p.source != "fallback":
                # the introduction is there to learn who the candidate is: once that is known it is complete
                c = Classification(AnswerKind.ANSWER, "profile", c.covered, c.claim)
            follow_index, missed = None, []
            blocker = self._follow_up_blocker(target) if late is None else "a late answer"
            if target is not None and question is not None and c.kind is AnswerKind.PARTIAL and blocker is None:
                covered = set(target.covered) | c.covered
                missed = [p for i, p in enumerate(question.expected_points) if i not in covered]
                follow_index = pick_follow_up(question.follow_ups, missed, used=target.follow_ups_asked)
                unused = [i for i in range(len(question.follow_ups)) if i not in target.follow_ups_asked]
                if (follow_index is None and unused and not target.follow_ups_used
                        and len(text.split()) < THIN_ANSWER_WORDS):
                    follow_index = unused[0]
            seen = [AnswerKind(k) for k in target.answers] if target else []
            probed = any(n.move == Move.PROBE_CLAIM and n.question_id == (target.id if target else None)
                         for n in self._snap.answers)
            move = decide(c.kind, phase=target.phase if target else None, seen=seen, follow_up=follow_index,
                          can_follow_up=blocker is None, claim=c.claim is not None, probed=probed,
                          asks=asks_question(text), own=own_follow_ups and bool(missed))
            if late is not None and move not in (Move.DECLINE, Move.WARN):
                move = Move.LATE
            elif moved and move not in (Move.DECLINE, Move.WARN):
                move = Move.NEXT  # the question's phase is over: its answer is kept, the interview goes on
            if target is not None:
                target.answers.append(c.kind.value)
                target.covered = sorted(set(target.covered) | c.covered)
            self._snap.answers.append(AnswerNote(
                question_id=target.id if target else None, phase=target.phase if target else self.phase,
                at=self.now(), kind=c.kind.value, source=c.source, move=move.value, covered=sorted(c.covered)))
            outcome = AnswerOutcome(c, move, target.id if target else None, warnings=len(self._snap.warnings))
            if move is Move.DECLINE:
                said = quote(text)
                self._note(f"Red flag: the candidate tried to steer the interviewer (prompt injection): \"{said}\"")
                outcome = await self._warn(outcome, f"attempted to steer the interviewer: \"{said}\"", events)
            elif move is Move.WARN:
                outcome = await self._warn(outcome, f"abusive language: \"{quote(text)}\"", events)
            elif move is Move.PROBE_CLAIM:
                assert target is not None and c.claim is not None
                self._note(f"Claim to verify ({target.id}): \"{c.claim}\"")
                self._grant_follow_up(target, None)
            elif move is Move.FOLLOW_UP:
                assert target is not None
                grant = self._grant_follow_up(target, follow_index)
                outcome = AnswerOutcome(c, move, target.id, follow_up=grant.text, warnings=outcome.warnings,
                                        missed=tuple(missed))
            elif move in (Move.NEXT, Move.HIRING_TEAM):
                if move is Move.HIRING_TEAM:
                    self._note(f"The candidate asked: \"{quote(text)}\"")
                outcome = AnswerOutcome(c, move, outcome.question_id, next=await self._next_question(events),
                                        warnings=outcome.warnings)
            return outcome

    def _late_for(self, text: str, current: AskedQuestion | None) -> AskedQuestion | None:
        """The question before `current` if `text` answers it rather than `current`: nothing was said to it (or only
        silence) before the interview moved on, nothing has been said to `current` yet, and the words share more
        with it (at least LATE_MIN_SHARED content words; for an introduction, the candidate's name or role)."""
        asked = self._snap.asked
        if current is None or current.answers or len(asked) < 2:
            return None
        previous = asked[-2]
        if any(k != AnswerKind.SILENCE.value for k in previous.answers):
            return None
        before, now = self.banks.question(previous.id), self.banks.question(current.id)
        if before is None or now is None:
            return None
        if previous.phase is Phase.INTRODUCTION:
            facts = parse_introduction(text, self.banks)
            if facts.name or facts.role_text:
                return previous
        theirs = overlap(text, [before.text, *before.expected_points, *before.follow_ups])
        ours = overlap(text, [now.text, *now.expected_points, *now.follow_ups])
        return previous if theirs >= LATE_MIN_SHARED and theirs > ours else None

    def _record_introduction(self, text: str) -> None:
        p = self._snap.profile
        if p.name is not None and p.role is not None and p.source != "fallback":
            return
        facts = parse_introduction(text, self.banks)
        self._set_profile(name=facts.name if p.name is None else None, role_text=facts.role_text,
                          years=facts.years if p.years is None else None)

    async def _warn(self, outcome: AnswerOutcome, reason: str, events: list[Event]) -> AnswerOutcome:
        count = self._add_warning(reason)
        if count >= self.settings.warning_limit:
            await self._end(MISCONDUCT, events)
        return AnswerOutcome(outcome.classification, outcome.move, outcome.question_id, warnings=count)

    async def end_phase(self) -> str | None:
        """The agent asks to move on; returns why not, or None once moved."""
        async with self._transaction() as events:
            phase = self.phase
            if phase is None:
                return "the interview is not in a phase"
            view = PhaseView(
                questions_asked=len(self.asked_in_phase()),
                min_questions=self.settings.phases[phase].min_questions,
                time_up=bool(self.timing and self.timing.timed_out),
                profile=self._snap.profile,
            )
            blocker = RULES[phase].leave_blocker(view)
            if blocker is None:
                await self._advance("agent", events)
            return blocker

    async def set_profile(
        self,
        *,
        name: str | None = None,
        role_text: str | None = None,
        years: float | None = None,
        level: Level | None = None,
    ) -> Profile:
        """Record what the candidate said; role and level are set once (a preset from the invite wins).

        A role the engine fell back to (nobody named one in time) is not a detection: a later answer that names a
        role still sets it, and the questions from then on come from that role's bank.
        """
        async with self._transaction():
            return self._set_profile(name=name, role_text=role_text, years=years, level=level)

    def _set_profile(self, *, name: str | None = None, role_text: str | None = None, years: float | None = None,
                     level: Level | None = None) -> Profile:
        p = self._snap.profile
        if name and p.source != "preset":
            p.name = name.strip()[:120]
        if years is not None and years >= 0:
            p.years = years
        if role_text and (p.role is None or p.source == "fallback"):
            detected = self.banks.match_role(role_text)
            if p.role is None or detected is not None:
                p.position = role_text.strip()[:120]
                p.role = detected or GENERIC_ROLE
                p.source = "detected" if detected else "fallback"
        if p.level is None and (level is not None or years is not None):
            p.level = level or Level.from_years(years or 0.0)
        return p.model_copy()

    async def add_note(self, text: str) -> None:
        async with self._transaction():
            self._note(text)

    def _note(self, text: str) -> None:
        self._snap.notes.append(Note(phase=self.phase, at=self.now(), text=text.strip()[:1000]))

    def _add_warning(self, reason: str) -> int:
        self._snap.warnings.append(Note(phase=self.phase, at=self.now(), text=reason.strip()[:500]))
        return len(self._snap.warnings)

    async def flag_behaviour(self, reason: str) -> int:
        """Record an inappropriate-behaviour warning; at the configured limit the interview ends politely."""
        async with self._transaction() as events:
            count = self._add_warning(reason)
            if count >= self.settings.warning_limit:
                await self._end(MISCONDUCT, events)
            return count

    async def end(self, reason: str) -> None:
        async with self._transaction() as events:
            await self._end(reason, events)

    def next_deadline(self) -> float | None:
        """Clock time of the next timer, or None once ended."""
        if self.ended or self._fsm.state == PENDING:
            return None
        deadlines = [self.settings.hard_limit_seconds]
        t = self.timing
        if t is not None:
            end = t.started_at + t.budget_seconds
            if not t.warned:
                deadlines.append(end - self.settings.time_warning_seconds)
            if not t.timed_out:
                deadlines.append(end)
            elif not self._answering and not self._held:
                deadlines.append(end + self.settings.grace_seconds)
        return min(deadlines) + self._origin

    async def run_timers(self) -> None:
        """Run until the interview ends, firing timers on time; wakes early whenever the phase changes."""
        while not self.ended:
            deadline = self.next_deadline()
            if deadline is None:
                await self._changed.wait()
                self._changed.clear()
                continue
            await sleep_or_wake(self.clock.sleep_until(deadline), self._changed)
            self._changed.clear()
            await self.poll()

    # ----- internals -----------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _transaction(self):  # type: ignore[no-untyped-def]
        """Serialise changes; fire due timers first; deliver events after the lock is released."""
        events: list[Event] = []
        async with self._lock:
            await self._fire_due(events)
            yield events
        for event in events:
            log.debug("engine event %s", event)
            for listener in self._listeners:
                result = listener(event)
                if inspect.isawaitable(result):
                    await result

    async def _fire_due(self, events: list[Event]) -> None:
        """Process due timers in time order, each at its own deadline (exact even when the clock jumps)."""
        lead, grace = self.settings.time_warning_seconds, self.settings.grace_seconds
        while not self.ended and self._fsm.state != PENDING:
            t = self.timing
            assert t is not None
            end = t.started_at + t.budget_seconds
            steps = [(self.settings.hard_limit_seconds, 3, "hard")]
            if not self._answering and not self._held:  # never under an answer: the forced move waits for it
                steps.append((end + grace, 2, "force"))
            if not t.warned:
                steps.append((end - lead, 0, "warn"))
            if not t.timed_out:
                steps.append((end, 1, "timeout"))
            at, _, kind = min(steps)
            if at > self.now():
                return
            if kind == "warn":
                t.warned = True
                events.append(TimeWarning(at, t.phase, end - at))
            elif kind == "timeout":
                t.timed_out = True
                events.append(PhaseTimeout(at, t.phase, grace))
            elif kind == "force":
                # an answer that outlived the deadline moves on when it ends, not back in time
                await self._advance("timeout", events, max(at, self._answer_end))
            else:
                await self._end("hard_limit", events, at)

    def _pick(self, phase: Phase, asked_in_phase: int) -> Question | None:
        """First unasked bank question that fits the time left (the minimum count is asked regardless)."""
        used = {a.id for a in self._snap.asked}
        remaining = self.phase_remaining()
        for q in self.banks.questions(self.role, self.level, phase):
            if q.id in used:
                continue
            if asked_in_phase >= self.settings.phases[phase].min_questions and remaining < q.minutes * 60 / 2:
                continue
            return q
        return None

    def _open_phase(self, phase: Phase, previous: Phase | None, reason: str, at: float) -> PhaseEntered:
        budget = phase_budget(self.settings, phase, at)
        self._snap.phases.append(PhaseTiming(phase=phase, budget_seconds=budget, started_at=at))
        self._changed.set()
        return PhaseEntered(at, phase, previous, budget, reason)

    async def _advance(self, reason: str, events: list[Event], at: float | None = None) -> None:
        at = self.now() if at is None else at
        previous = self.phase
        assert previous is not None
        self._close_phase(reason, at)
        if previous is Phase.WRAP_UP:
            await self._end("completed", events, at)
            return
        if previous is Phase.INTRODUCTION and self._snap.profile.role is None:
            # nobody named a role in time: the generic bank keeps the interview going (`level` falls back too)
            self._snap.profile.role, self._snap.profile.source = GENERIC_ROLE, "fallback"
        await self._fsm.advance()
        events.append(self._open_phase(Phase(self._fsm.state), previous, reason, at))

    def _close_phase(self, reason: str, at: float) -> None:
        t = self.timing
        if t is not None and t.ended_at is None:
            t.ended_at, t.end_reason = at, reason

    async def _end(self, reason: str, events: list[Event], at: float | None = None) -> None:
        if self.ended:
            return
        at = self.now() if at is None else at
        self._close_phase(reason, at)
        await self._fsm.finish()
        self._snap.ended_at, self._snap.end_reason = at, reason
        self._changed.set()
        events.append(InterviewEnded(at, reason))
