"""One interview: the engine, the agent and LiveKit's AgentSession wired together, persisted turn by turn.

:class:`InterviewSession` starts (or resumes) the engine, runs its timers for the session's life, captures every
spoken turn into the sink as it happens (with a snapshot of the engine after each), and when the interview is over —
the agent said goodbye, the candidate left, or the session was closed, whichever comes first — builds the
:class:`~engine.transcript.InterviewRecord` and hands it to `on_finished` exactly once, in a task of its own, so the
session's close is never held up by evaluation.

Example::

    >>> interview = InterviewSession(setup, stack, JournalSink(Path("runs")), on_finished=queue_evaluation)
    ... # doctest: +SKIP
    >>> await interview.start(room=ctx.room)     # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.metrics import AgentSessionUsage, LLMModelUsage, STTModelUsage, TTSModelUsage
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.voice import room_io
from livekit.agents.voice.events import CloseEvent, CloseReason, ConversationItemAddedEvent
from livekit.agents.voice.run_result import RunResult

from engine.banks import BankSet
from engine.clock import Clock, RealClock
from engine.events import Event, InterviewEnded, PhaseEntered
from engine.interview import InterviewEngine
from engine.prompts import PromptLibrary
from engine.settings import InterviewSettings
from engine.snapshot import EngineSnapshot, Profile
from engine.transcript import InterviewRecord, ModelUsage, SessionUsage, Speaker, Turn
from pipeline.agent import InterviewerBase, make_agent
from pipeline.driver import InterviewDriver
from pipeline.ports import InterviewSink, OnFinished
from pipeline.providers import ProviderStack
from pipeline.resume import chat_context
from pipeline.settings import ProfileSettings
from pipeline.transcript import TranscriptRecorder
from pipeline.turn_text import TextCuedTurnDetector, TextTurnDetector, listen

log = logging.getLogger(__name__)

MAX_TOOL_STEPS = 4  # record_profile, next_question and a note may all precede one reply
INTERRUPT_SECONDS = 0.5  # speech over the agent's reply this long stops it (LiveKit's default, stated)
FALSE_INTERRUPTION_SECONDS = 1.5  # an interruption followed by no words this long was not one: the reply resumes
# silence after a question before the candidate counts as quiet ("away"): only then does a guided interviewer speak
# on its own (a held-back phase change, or a gentle prompt). A candidate may think in silence for a while
AWAY_SECONDS = 20.0
CLOSE_REASONS = {CloseReason.PARTICIPANT_DISCONNECTED: "candidate_left", CloseReason.JOB_SHUTDOWN: "candidate_left",
                 CloseReason.ERROR: "error"}


def session_usage(usage: AgentSessionUsage) -> SessionUsage | None:
    """LiveKit's per-model usage of a session as the plain record the engine keeps; None when nothing was used."""
    models = []
    for u in usage.model_usage:
        if isinstance(u, LLMModelUsage):
            models.append(ModelUsage(kind="llm", provider=u.provider, model=u.model, prompt_tokens=u.input_tokens,
                                     completion_tokens=u.output_tokens))
        elif isinstance(u, STTModelUsage):
            models.append(ModelUsage(kind="stt", provider=u.provider, model=u.model,
                                     audio_seconds=round(u.audio_duration, 1)))
        elif isinstance(u, TTSModelUsage):
            models.append(ModelUsage(kind="tts", provider=u.provider, model=u.model,
                                     audio_seconds=round(u.audio_duration, 1), characters=u.characters_count))
    return SessionUsage(models=models) if models else None


@dataclass(frozen=True)
class InterviewSetup:
    """What every interview of a process shares, loaded and validated once."""

    settings: InterviewSettings
    banks: BankSet
    prompts: PromptLibrary
    profile: ProfileSettings
    config_hash: str | None = None


def session_options(profile: ProfileSettings, stack: ProviderStack) -> dict[str, Any]:
    """AgentSession options from a provider profile (turn detection, endpointing)."""
    detector = stack.stt if profile.turn_detection == "stt" else stack.vad
    # turn-detector and language-model: the stack's detector object (its own per session, see
    # ProviderStack.for_session), the audio model text-cued when the profile says so; vad with text cues: the words
    # alone lengthen the wait (pipeline/turn_text.py)
    mode: Any = profile.turn_detection
    if profile.turn_detection in ("turn-detector", "language-model"):
        mode = stack.turn_detector
        if (profile.turn_detection == "turn-detector" and profile.text_cues and mode is not None
                and not isinstance(mode, TextCuedTurnDetector)):
            raise ValueError("text_cues: the stack's turn detector is not a TextCuedTurnDetector")
    elif profile.turn_detection == "vad" and profile.text_cues:
        mode = TextTurnDetector()
    return {
        "turn_handling": {
            # a typed-text session has no audio to detect turns in: each message is a turn
            "turn_detection": mode if detector is not None and mode is not None else "manual",
            "endpointing": {"min_delay": profile.endpointing.min_delay, "max_delay": profile.endpointing.max_delay},
            # adaptive interruption needs LiveKit's hosted inference; the VAD decides here. A candidate who goes on
            # talking for INTERRUPT_SECONDS over the agent's reply stops it, and what they say joins the same answer
            # (the guided agent says the step again afterwards); a shorter sound (a cough, "mm") is a false
            # interruption and the reply resumes
            "interruption": {"mode": "vad", "min_duration": INTERRUPT_SECONDS, "resume_false_interruption": True,
                             "false_interruption_timeout": FALSE_INTERRUPTION_SECONDS},
            # in guided mode each reply takes an engine step, which a speculative reply must not take early
            "preemptive_generation": {"enabled": not profile.guided},
        },
        "max_tool_steps": MAX_TOOL_STEPS,
        "session_close_transcript_timeout": 1.0,
        "user_away_timeout": AWAY_SECONDS,
    }


class InterviewSession:
    """Give `snapshot` (and the `previous_turns` of its transcript) to resume an interrupted interview."""

    def __init__(
        self,
        setup: InterviewSetup,
        stack: ProviderStack,
        sink: InterviewSink,
        *,
        on_finished: OnFinished | None = None,
        clock: Clock | None = None,
        preset: Profile | None = None,
        interview_id: str | None = None,
        snapshot: EngineSnapshot | None = None,
        previous_turns: list[Turn] | None = None,
        started_at: datetime | None = None,
        location: dict[str, str | None] | None = None,
    ):
        self.setup = setup
        self.sink = sink
        self.on_finished = on_finished
        clock = clock or RealClock()
        if snapshot is not None:
            self.engine = InterviewEngine.restore(snapshot, setup.settings, setup.banks, clock)
        else:
            self.engine = InterviewEngine(setup.settings, setup.banks, clock, interview_id=interview_id,
                                          profile=preset)
        self._resumed = snapshot is not None
        self.started_at = started_at or datetime.now(UTC)
        self.driver = InterviewDriver(self.engine, setup.prompts, guided=setup.profile.guided,
                                      phrasing=setup.profile.phrasing)
        self.recorder = TranscriptRecorder(self.engine, previous=previous_turns)
        self.session: AgentSession = AgentSession(stt=stack.stt, llm=stack.llm, tts=stack.tts, vad=stack.vad,
                                                  **session_options(setup.profile, stack))
        listen(self.session)  # a text-cued turn detector hears the session's transcripts
        self.agent: InterviewerBase | None = None
        self.record: InterviewRecord | None = None
        self._early_events: list[Event] = []
        self._writes: asyncio.Queue[Callable[[], None]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._timers: asyncio.Task[None] | None = None
        self._finish_task: asyncio.Task[None] | None = None
        self._close_reason: str | None = None  # why the app closed the session, when it did
        self._suspended = False  # closed without ending: the interview stays resumable
        self.location = location or {}  # room and invitation, recorded with the interview
        self._finished = asyncio.Event()
        self.session.on("conversation_item_added", self._on_item)
        self.session.on("close", self._on_close)

    @property
    def interview_id(self) -> str:
        return self.engine.interview_id

    @property
    def turns(self) -> list[Turn]:
        return self.recorder.turns

    # ----- starting ------------------------------------------------------------------------------------------

    async def start(
        self,
        *,
        room: NotGivenOr[rtc.Room] = NOT_GIVEN,
        room_options: NotGivenOr[room_io.RoomOptions] = NOT_GIVEN,
        capture_run: bool = False,
    ) -> RunResult | None:
        """Start the engine and the session; with `capture_run`, return the run of the opening words."""
        self._writer = asyncio.create_task(self._write_loop(), name="sima-sink-writer")
        self.engine.subscribe(self._on_event)
        if self._resumed:
            opening = await self.driver.resume()
        else:
            p = self.engine.profile
            self._persist(self.sink.create_interview, self.interview_id, candidate_name=p.name, role=p.role,
                          level=p.level, started_at=self.started_at, config_hash=self.setup.config_hash,
                          **self.location)
            await self.engine.start()
            greeting = next(e for e in self._early_events if isinstance(e, PhaseEntered))
            opening = await self.driver.open(greeting)
        self._persist_snapshot()
        self.agent = make_agent(self.driver, opening=opening)
        if self._resumed and self.turns:  # the conversation so far is the agent's chat history again
            await self.agent.update_chat_ctx(chat_context(self.turns))
        self._timers = asyncio.create_task(self._run_timers(), name="sima-engine-timers")
        mode = ("guided, verbatim" if self.driver.verbatim else "guided") if self.driver.guided else "tools"
        log.info("interview %s starting (%s mode)", self.interview_id, mode)
        return await self.session.start(self.agent, room=room, room_options=room_options, capture_run=capture_run)

    async def _run_timers(self) -> None:
        try:
            await self.engine.run_timers()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("interview %s: engine timers failed", self.interview_id)

    # ----- while it runs -------------------------------------------------------------------------------------

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, PhaseEntered | InterviewEnded):
            self._persist_snapshot()
        if self.agent is None:
            self._early_events.append(event)
        elif self._finish_task is None:
            try:
                await self.agent.on_engine_event(event)
            except Exception:
                # the engine's timers deliver events too: a failure to speak one must not stop them
                log.exception("interview %s: could not handle %s", self.interview_id, type(event).__name__)

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        turn = self.recorder.capture(ev.item)
        if turn is not None:
            self._persist(self.sink.append_turn, self.interview_id, turn)
            self._persist_snapshot()
            if (turn.speaker is Speaker.AGENT and self.agent is not None
                    and self.agent.reply_spoken(interrupted=turn.interrupted) and turn.interrupted):
                self.recorder.heard_after_all()

    def _persist_snapshot(self) -> None:
        self._persist(self.sink.save_snapshot, self.interview_id, self.engine.snapshot())

    def _persist(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        # one writer, in order: the interview's record exists before its first turn
        self._writes.put_nowait(functools.partial(write, *args, **kwargs))

    async def _write_loop(self) -> None:
        while True:
            job = await self._writes.get()
            try:
                await asyncio.to_thread(job)
            except Exception:
                # a storage hiccup must not end the interview; the journal or the next write still has it
                log.exception("interview %s: could not persist", self.interview_id)
            finally:
                self._writes.task_done()

    async def flush(self) -> None:
        """Wait until everything captured so far has been handed to the sink."""
        await self._writes.join()

    async def wait_for_announcements(self) -> None:
        if self.agent is not None:
            await self.agent.wait_for_announcements()

    # ----- finishing -----------------------------------------------------------------------------------------

    def _on_close(self, ev: CloseEvent) -> None:
        if self._suspended:
            return
        self._begin_finish(self._close_reason or CLOSE_REASONS.get(ev.reason, "session_closed"))

    def _begin_finish(self, reason: str) -> None:
        if self._finish_task is None:
            self._finish_task = asyncio.create_task(self._finish(reason), name="sima-interview-finish")

    async def _finish(self, reason: str) -> None:
        if self.agent is not None:
            self.agent.stop_speaking()
        if not self.engine.ended:
            await self.engine.end(reason)
        if self._timers is not None:
            self._timers.cancel()
        self._persist_snapshot()
        if self._writer is not None:
            await self.flush()
            self._writer.cancel()
        self.record = InterviewRecord.build(self.engine.snapshot(), self.turns, self.setup.banks, self.started_at,
                                            self.setup.config_hash, usage=session_usage(self.session.usage))
        log.info("interview %s finished (%s), %d turns", self.interview_id, self.engine.snapshot().end_reason,
                 len(self.turns))
        try:
            if self.on_finished is not None:
                await self.on_finished(self.record)
        except Exception:
            log.exception("interview %s: on_finished failed", self.interview_id)
        finally:
            self._finished.set()

    async def welcome_back(self) -> None:
        """Say the resumed line (the current question again) to a candidate who has rejoined the room."""
        if self.agent is not None and self._finish_task is None and not self.engine.ended:
            self.agent.speak_step(await self.driver.resume())

    async def suspend(self) -> None:
        """Close the session without ending the interview (its job is going away with the candidate still there):
        everything is persisted and it stays unfinished, for the next job in its room to resume."""
        if self._finish_task is not None:
            await self.wait_finished()
            return
        self._suspended = True
        if self._timers is not None:
            self._timers.cancel()
        self._persist_snapshot()
        await self.session.aclose()
        if self._writer is not None:
            await self.flush()
            self._writer.cancel()
        log.info("interview %s suspended, resumable (%d turns)", self.interview_id, len(self.turns))

    async def wait_finished(self) -> InterviewRecord | None:
        """Wait until the interview is over and handled (`on_finished` included); the finished record."""
        await self._finished.wait()
        return self.record

    async def aclose(self, reason: str = "session_closed") -> InterviewRecord | None:
        """Close the session (if it is still open) and finish the interview; `reason` ends it if still running."""
        self._close_reason = reason
        await self.session.aclose()
        self._begin_finish(reason)  # a session that never started sends no close event
        return await self.wait_finished()
