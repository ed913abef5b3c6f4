"""The interviewing agent: instructions from the engine, tools that drive it, spoken phase changes and time warnings.

Three agents share one base:

* :class:`InterviewAgent` lets the LLM drive the engine through function tools (record_profile, next_question,
  ask_follow_up, add_note, flag_behaviour, end_interview). It can only ask what the engine hands out and can only
  end the interview after the wrap-up (or when the candidate wants to stop).
* :class:`GuidedInterviewAgent` has no tools: after every candidate turn the code itself asks the engine for the
  next step and hands the LLM the exact words to phrase (small local models cannot be trusted with tool calls).
* :class:`VerbatimInterviewAgent` is guided, and the code also speaks: each reply is at most a short acknowledgement
  from the LLM (:mod:`pipeline.acknowledge`) followed by the step's exact words, so a model too small to follow
  instructions can neither parrot them nor skip or alter a question.

The instructions are re-rendered from prompt_templates/ on every engine event. Candidate speech never enters them:
the templates quote the candidate's name and role as data, and everything else comes from the engine and banks.

Engine events raised by a timer are spoken at once when nobody is talking (guided: when the candidate has gone
quiet); otherwise they ride along with the reply to the candidate's next turn, so the agent does not talk over an
answer. The interview's end is always spoken at once, and the session closes when the goodbye has been said.
Should the LLM fail on a reply, the step's own words are spoken instead (logged), so a greeting or a question is
never lost to a timeout.

Example::

    >>> driver = InterviewDriver(engine, prompts)                        # doctest: +SKIP
    >>> agent = make_agent(driver, opening=Step("Greet the candidate."))  # doctest: +SKIP
    >>> engine.subscribe(agent.on_engine_event)                          # doctest: +SKIP
    >>> await AgentSession(llm=...).start(agent)                         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from typing import Any

from livekit.agents import Agent, APIError, FlushSentinel, RunContext, ToolError, llm
from livekit.agents.voice import ModelSettings, SpeechHandle
from livekit.agents.voice.events import UserInputTranscribedEvent, UserStateChangedEvent
from livekit.agents.voice.generation import update_instructions

from engine.answers import AnswerKind, rule_kind
from engine.events import Event, InterviewEnded, PhaseEntered
from engine.phases import Phase
from pipeline.acknowledge import HOLDING, PATIENCE, Draft, acknowledge, draft, neutral, warm_up
from pipeline.driver import EndReason, InterviewDriver, InvalidAnswer, Step, collecting
from pipeline.phrasing import Line
from pipeline.prebuilt_tools import prebuilt_tools

log = logging.getLogger(__name__)

_FREE_AGENT_STATES = ("listening", "idle")
TALK_OVERS_HEARD = 2  # a step the candidate talked over this often counts as heard (guided: said again until then)


class InterviewerBase(Agent):
    """What the interviewers share; `opening` is what to say first (the greeting, or a welcome back)."""

    def __init__(self, driver: InterviewDriver, *, opening: Step, tools: list[llm.Tool] | None = None):
        self.driver = driver
        self._opening = opening
        self._applied = driver.instructions()
        super().__init__(instructions=self._applied, tools=tools or [])
        self._notices: list[Step] = []  # timer events waiting for the candidate to finish
        self._injected: list[Step] = []  # notices handed to the reply being generated
        self._answered: set[str] = set()  # ids of candidate messages already handled
        self._fallbacks: dict[str, str] = {}  # instruction of an announcement -> its words, if the LLM fails
        self._announcements: list[SpeechHandle] = []
        self._live = False
        self._closing = False

    # ----- lifecycle -----------------------------------------------------------------------------------------

    async def on_enter(self) -> None:
        self._live = True
        self._speak(self._opening)

    async def on_exit(self) -> None:
        self._live = False

    @property
    def closing(self) -> bool:
        """The goodbye is said (or on its way) and the session is closing: no candidate turn is taken any more."""
        return self._closing

    def stop_speaking(self) -> None:
        """The session is closing: events after this update state only."""
        self._live = False

    async def wait_for_announcements(self) -> None:
        """Wait until everything said on the agent's own initiative (greeting, timer events) has been said."""
        while pending := [h for h in self._announcements if not h.done()]:
            for handle in pending:
                await handle

    # ----- engine events -------------------------------------------------------------------------------------

    async def refresh_instructions(self) -> None:
        text = self.driver.instructions()
        if text != self._applied:
            self._applied = text
            await self.update_instructions(text)

    async def on_engine_event(self, event: Event) -> None:
        """Engine listener: re-render the instructions, then speak the event unless a driver call will."""
        await self.refresh_instructions()
        if isinstance(event, PhaseEntered | InterviewEnded):
            self._supersede()
        if collecting() is not None:
            return  # the tool or guided step that caused it says it
        if self._live:
            await self._timer_event(event)

    async def _timer_event(self, event: Event) -> None:
        """An event a timer raised: said at once when nobody is talking, else along with the next reply."""
        step = await self.driver.announce(event)
        await self.refresh_instructions()
        if step.ended or isinstance(event, InterviewEnded) or self._floor_is_free():
            self._speak(step)
        else:
            log.debug("engine event %s waits for the candidate's turn", type(event).__name__)
            self._notices.append(step)

    def _supersede(self) -> None:
        """A phase change makes earlier time warnings moot, spoken or still queued."""
        self._notices.clear()
        self._injected = []
        for handle in self._announcements:
            if not handle.done() and handle.allow_interruptions:
                handle.interrupt()

    def _floor_is_free(self) -> bool:
        session = self.session
        return session.agent_state in _FREE_AGENT_STATES and session.user_state != "speaking"

    def speak_step(self, step: Step) -> None:
        """Say `step` now, on the agent's own initiative (a welcome back to a candidate who rejoined)."""
        self._speak(step)

    def _speak(self, step: Step) -> None:
        if not self._live or self._closing:
            return
        # the goodbye is not interruptible: it is the last thing the candidate hears
        self._announcements.append(self._announce(step, allow_interruptions=not step.ended))
        if step.ended:
            self._close_after_reply()

    def _announce(self, step: Step, *, allow_interruptions: bool) -> SpeechHandle:
        """Say `step` on the agent's own initiative: the LLM phrases it (its words stand in should the LLM fail)."""
        self._fallbacks[step.say] = step.words
        return self.session.generate_reply(instructions=step.say, allow_interruptions=allow_interruptions)

    def _close_after_reply(self) -> None:
        if not self._closing:
            self._closing = True
            # draining lets the queued goodbye play out before the session closes
            self.session.shutdown(drain=True)

    async def _after_step(self, step: Step) -> str:
        await self.refresh_instructions()
        if step.ended:
            self._close_after_reply()
        return step.say

    # ----- each reply ----------------------------------------------------------------------------------------

    async def turn_step(self, answer: str, *, model: AnswerKind | None = None) -> Step | None:
        """What the reply to a candidate turn must say beyond the instructions; the guided agent adds its next step
        (`model`: the model's reading of the answer, if it gave one)."""
        # kept until the reply is spoken (reply_spoken): a speculative reply LiveKit discards must not lose them
        self._injected = list(self._notices)
        return Step.of(Line.join(n.line for n in self._injected)) if self._injected else None

    def reply_spoken(self, *, interrupted: bool = False) -> bool:
        """The agent has said something: the notices it was given are delivered. True if the candidate counts as
        having heard it (not a reply they talked over)."""
        self._notices = [n for n in self._notices if n not in self._injected]
        self._injected = []
        return not interrupted

    def _new_answer(self, chat_ctx: llm.ChatContext) -> str | None:
        """The candidate's new answer at the end of `chat_ctx`, taken once; None if there is none."""
        last = chat_ctx.items[-1] if chat_ctx.items else None
        if not isinstance(last, llm.ChatMessage) or last.role != "user" or last.id in self._answered:
            return None
        self._answered.add(last.id)
        return last.text_content or ""

    async def _take_turn(self, chat_ctx: llm.ChatContext) -> tuple[str, Step | None] | None:
        """The candidate's new answer at the end of `chat_ctx` and its step, taken once; None if there is none."""
        answer = self._new_answer(chat_ctx)
        return None if answer is None else (answer, await self.turn_step(answer))

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterable[llm.ChatChunk | str | Any]:
        # every reply to a candidate turn passes here, spoken or typed, so this is where a turn's step is taken
        turn = await self._take_turn(chat_ctx)
        step = turn[1] if turn else None
        if turn:
            # the step may have moved the phase on: this request gets the new instructions too
            update_instructions(chat_ctx, instructions=self._applied, add_if_missing=True)
        if step and step.say:
            chat_ctx.add_message(role="system", content=[step.say])
        fallback = step.words if step else self._announced_words(chat_ctx)
        replied = False
        try:
            async for chunk in Agent.default.llm_node(self, chat_ctx, tools, model_settings):
                replied = replied or _has_reply(chunk)
                yield chunk
        except APIError as exc:
            if replied:
                raise
            # never a silent agent: the step's own words, or an apology and the question again
            log.warning("the LLM failed (%s): saying %s instead", exc, "the step's own words" if fallback
                        else "an apology and the question")
            yield fallback or self.driver.phrasing.apology()

    def _announced_words(self, chat_ctx: llm.ChatContext) -> str:
        """The words of the announcement this reply phrases (generate_reply puts its instruction last), or ""."""
        last = chat_ctx.items[-1] if chat_ctx.items else None
        if isinstance(last, llm.ChatMessage) and last.role == "system":
            return self._fallbacks.pop(last.text_content or "", "")
        return ""


def _has_reply(chunk: llm.ChatChunk | str | Any) -> bool:
    if isinstance(chunk, str):
        return bool(chunk)
    delta = chunk.delta if isinstance(chunk, llm.ChatChunk) else None
    return bool(delta and (delta.content or delta.tool_calls))


class InterviewAgent(InterviewerBase):
    """The LLM drives the engine through these tools; each returns what to say next. Their schemas are built once
    (:mod:`pipeline.prebuilt_tools`), from their signatures and docstrings."""

    def __init__(self, driver: InterviewDriver, *, opening: Step):
        super().__init__(driver, opening=opening, tools=prebuilt_tools(
            self.record_profile, self.next_question, self.ask_follow_up, self.add_note, self.flag_behaviour,
            self.end_interview))

    async def record_profile(self, context: RunContext, name: str, role: str, years_of_experience: float) -> str:
        """Record who the candidate is, as soon as they have said their name, role and experience.

        Args:
            name: the candidate's name, as they said it
            role: the role they are applying for, in their words
            years_of_experience: years of professional experience; 0 for none
        """
        try:
            step = await self.driver.record_profile(name, role, years_of_experience)
        except InvalidAnswer as exc:
            raise ToolError(str(exc)) from None
        return await self._after_step(step)

    async def next_question(self, context: RunContext) -> str:
        """Get the next interview question. It also moves to the next phase when this one is done."""
        return await self._after_step(await self.driver.next_question())

    async def ask_follow_up(self, context: RunContext) -> str:
        """Ask permission for one follow-up on the current question; follow-ups per question are limited."""
        return await self._after_step(await self.driver.follow_up())

    async def add_note(self, context: RunContext, note: str) -> str:
        """Leave a note for the evaluators (a notable strength, a doubtful claim, a technical problem).

        Args:
            note: one or two factual sentences
        """
        return await self._after_step(await self.driver.add_note(note))

    async def flag_behaviour(self, context: RunContext, reason: str) -> str:
        """Record abusive, harassing or clearly inappropriate behaviour; repeated behaviour ends the interview.

        Args:
            reason: what the candidate did, in a few neutral words
        """
        return await self._after_step(await self.driver.flag_behaviour(reason))

    async def end_interview(self, context: RunContext, reason: EndReason) -> str:
        """End the interview: only once the wrap-up is done, or when the candidate asks to stop.

        Args:
            reason: 'completed' after the wrap-up, 'candidate_request' if the candidate wants to stop
        """
        return await self._after_step(await self.driver.end(reason))


class GuidedInterviewAgent(InterviewerBase):
    """No tools: the code picks every step and the LLM only phrases it.

    Every step ends on a question, so a timer event (time nearly up) waits for the candidate's answer and becomes
    part of the next step; the engine holds a phase whose time is up for that answer. A candidate who speaks and has
    gone quiet (LiveKit's "away", after `user_away_timeout` seconds of silence) is the engine's to handle: the same
    question again, then moving on. What the candidate says while the agent is talking (they went on with their
    answer: the reply was interrupted) joins the same answer, and the step taken for it is said again; talked
    over a second time, the step counts as heard, and what they say answers it (never a question said over and
    over). The interview's end is always said at once.
    """

    def __init__(self, driver: InterviewDriver, *, opening: Step):
        super().__init__(driver, opening=opening)
        self._unspoken: Step | None = None  # the step taken for a reply that has not been said yet
        self._talk_overs = 0  # how often the candidate talked over the reply saying `_unspoken`
        self._deferred: list[Event] = []  # timer events waiting for the candidate's turn
        self._catch_ups: set[asyncio.Task[None]] = set()

    async def on_enter(self) -> None:
        self.session.on("user_state_changed", self._on_user_state)
        await super().on_enter()

    async def on_exit(self) -> None:
        self.session.off("user_state_changed", self._on_user_state)
        await super().on_exit()

    async def wait_for_announcements(self) -> None:
        while self._catch_ups:
            await asyncio.gather(*self._catch_ups)
        await super().wait_for_announcements()

    async def _timer_event(self, event: Event) -> None:
        self._deferred.append(event)
        if isinstance(event, InterviewEnded) or (self.session.user_state == "away" and self._floor_is_free()):
            await self._catch_up()
        else:
            log.debug("engine event %s waits for the candidate's answer", type(event).__name__)

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        # while the candidate speaks, a phase whose time is up waits for the end of the answer (the engine's rule)
        self.driver.engine.set_answering(ev.new_state == "speaking")
        if ev.new_state == "away" and self._live and not self._closing and self._unspoken is None:
            task = asyncio.create_task(self._catch_up(silent=True), name="sima-timer-catch-up")
            self._catch_ups.add(task)
            task.add_done_callback(self._catch_ups.discard)

    def _hears_audio(self) -> bool:
        """Whether the candidate speaks (a typed candidate's silence may be typing)."""
        return self.session.input.audio is not None

    async def _catch_up(self, *, silent: bool = False) -> None:
        """Say the timer events nobody has heard yet. A `silent` candidate who speaks (not types) and owes an
        answer is the engine's to handle first (a gentle prompt with the question again, then moving on): a phase
        whose time is up then moves on with that, so an answer still being thought out is never filed under a
        question asked after it began; the time notices wait for the next step."""
        if (silent and self._hears_audio() and self._floor_is_free() and self.driver.engine.asked_in_phase()
                and not any(isinstance(e, InterviewEnded) for e in self._deferred)):
            step = await self.driver.silence()
            await self.refresh_instructions()
            self._speak(step)
            self.session.reset_away_timer()  # a second silence after this prompt is the engine's to handle too
            return
        events, self._deferred = self._deferred, []
        if not events:
            return
        step = await self.driver.announce(*events)
        await self.refresh_instructions()
        self._speak(step)

    async def turn_step(self, answer: str, *, model: AnswerKind | None = None) -> Step | None:
        if self._unspoken is None:
            deferred, self._deferred = self._deferred, []
            self._unspoken = await self.driver.answer_received(answer, deferred, model=model)
        # else the candidate spoke again before the reply was said: it is the same answer, and the step still stands
        # (taking another would skip a question nobody heard)
        step = self._unspoken
        await self._after_step(step)
        return step

    def reply_spoken(self, *, interrupted: bool = False) -> bool:
        heard = super().reply_spoken(interrupted=interrupted)
        if interrupted and self._unspoken is not None:
            self._talk_overs += 1
            if self._talk_overs < TALK_OVERS_HEARD:
                # the candidate went on talking over the reply: what they say next joins the same answer, and the
                # step taken for it is said again once they finish (its question was not heard)
                return False
            # talked over again: they answer it as they hear it (or their line echoes the agent); saying it a
            # third time would only loop
            log.info("step talked over %d times: it counts as heard", self._talk_overs)
            heard = True
        if heard:
            self._unspoken, self._talk_overs = None, 0
        return heard

    def _supersede(self) -> None:
        super()._supersede()
        # a timer moved the phase on: that step's question belongs to the phase left behind
        self._unspoken, self._talk_overs = None, 0


class VerbatimInterviewAgent(GuidedInterviewAgent):
    """Guided, and the code speaks every step's words; the LLM at most acknowledges the answer before them."""

    def __init__(self, driver: InterviewDriver, *, opening: Step):
        super().__init__(driver, opening=opening)
        self._last_ack = ""
        self._warm_up: asyncio.Task[None] | None = None
        self._partial = ""  # the newest interim transcript not yet drafted for
        self._draft: Draft | None = None  # the newest draft written for this answer
        self._drafting: asyncio.Task[Draft | None] | None = None

    async def on_enter(self) -> None:
        await super().on_enter()
        # while the greeting is said: the candidate's first acknowledgement then finds the model loaded
        self._warm_up = asyncio.create_task(warm_up(self._text_llm(), self.driver.prompts), name="sima-llm-warm-up")
        self.session.on("user_input_transcribed", self._on_transcribed)

    async def on_exit(self) -> None:
        self.session.off("user_input_transcribed", self._on_transcribed)
        for task in (self._warm_up, self._drafting):
            if task is not None:
                task.cancel()
        await super().on_exit()

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        """While the candidate speaks, each interim transcript (early transcription's finished pieces) gets a draft
        acknowledgement, one request at a time, for the newest text only."""
        if ev.is_final or not ev.transcript.strip():
            return
        self._partial = ev.transcript
        if self._drafting is None or self._drafting.done():
            self._drafting = asyncio.create_task(self._draft_newest(), name="sima-ack-draft")

    async def _draft_newest(self) -> Draft | None:
        while self._partial:
            answer, self._partial = self._partial, ""
            if self._draft is not None and self._draft.covers(answer):
                continue  # the draft in hand stands for this much of the answer: the model stays free for the turn
            phase = self.driver.engine.phase or Phase.WRAP_UP
            self._draft = await draft(self._text_llm(), self.driver.prompts, answer, phase=phase.value,
                                      tag=self.driver.engine.wants_judgement(answer)) or self._draft
        return self._draft

    async def _acknowledgement(self, answer: str, phase: str, *, wanted: bool, tag: bool
                               ) -> tuple[Draft | None, bool]:
        """The model's reply to the answer just given, if `wanted`, and whether it came too late. With the
        on/off-topic `tag` wanted it is waited for (the engine weighs it); without, for at most PATIENCE."""
        if not wanted:
            await self._take_draft(wanted=False)
            return None, False
        try:
            async with asyncio.timeout(None if tag else PATIENCE):
                drafted = await self._take_draft(wanted=True)
                return await acknowledge(self._text_llm(), self.driver.prompts, answer, phase=phase, drafted=drafted,
                                         tag=tag), False
        except TimeoutError:
            log.info("acknowledgement not in %.1f s after the answer: a neutral one instead", PATIENCE)
            return None, True

    async def _take_draft(self, *, wanted: bool) -> Draft | None:
        """The draft for the answer just given, if `wanted` (waiting for one being written: the model is busy with
        it anyway); drafting stops either way."""
        task, self._drafting, self._partial, self._draft = self._drafting, None, "", None
        if task is None or not wanted:
            if task is not None:
                task.cancel()
            return None
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the reply itself was cancelled (or ran out of patience), not only the draft
            return None

    def _text_llm(self) -> llm.LLM:
        model = self.session.llm
        assert isinstance(model, llm.LLM), "verbatim phrasing needs a text LLM"
        return model

    def _announce(self, step: Step, *, allow_interruptions: bool) -> SpeechHandle:
        return self.session.say(step.words, allow_interruptions=allow_interruptions)

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterable[llm.ChatChunk | str | Any]:
        phase = (self.driver.engine.phase or Phase.WRAP_UP).value  # the phase of the question just answered
        answer = self._new_answer(chat_ctx)
        if answer is None:
            return  # no candidate turn to answer: nothing of the LLM's own is ever said
        # one model request, as before, and only for an answer (a request to repeat, abuse... need none): the
        # acknowledgement, with the model's on/off-topic tag written first where the engine could use it
        wanted = self._unspoken is None and rule_kind(answer) is None
        tag = wanted and self.driver.engine.wants_judgement(answer)
        held = ""
        reading = asyncio.ensure_future(self._acknowledgement(answer, phase, wanted=wanted, tag=tag))
        try:
            # the step waits for the model's tag; the candidate hears at once that the answer was heard
            if tag and not (await asyncio.wait({reading}, timeout=PATIENCE))[0]:
                held = self._last_ack = neutral(self._last_ack, among=HOLDING)
                log.info("the model's tag not in %.1f s after the answer: %r said meanwhile", PATIENCE, held)
                yield held + " "
                yield FlushSentinel()  # spoken now, as a segment of its own
            reply, late = await reading
        finally:
            reading.cancel()
        step = await self.turn_step(answer, model=reply.label if reply else None)
        if step is None:
            return
        ack = ""
        if step.acknowledge and not held:  # a holding word acknowledged the answer already
            if late:
                ack = neutral(self._last_ack)
            elif reply is not None:
                ack = reply.words(answer, then=step.words, previous=self._last_ack, phase=phase)
        self._last_ack = ack or self._last_ack
        # one piece of text: the transcript LiveKit records is exactly what the TTS says
        yield " ".join(part for part in (ack, step.words) if part)


def make_agent(driver: InterviewDriver, *, opening: Step) -> InterviewerBase:
    """The agent for the driver's mode: verbatim, guided, or tool-driven."""
    cls = VerbatimInterviewAgent if driver.verbatim else GuidedInterviewAgent if driver.guided else InterviewAgent
    return cls(driver, opening=opening)
