"""One simulated interview from start to report: the persona answers the real agent by voice (or typed text).

Voice mode is a real audio loop: the persona's reply is synthesised by Piper and spoken, in real time, into the
agent's microphone, where Silero VAD, the configured STT, LLM and TTS take it exactly as in a room. Only the engine's
clock is compressed (`time_scale`), so a 22-minute interview's phases and timers pass in a few minutes.

Outputs go to `runs/<interview id>/`: the journal (written turn by turn), `transcript.json`, `latency.json` (the
per-turn latency and the answer alignment: the share of candidate turns filed under the question the persona was
answering, see :mod:`sima.simulation.alignment`), `conversation.wav`; the evaluation reports go to
`evaluation.output_dir`.

Example::

    >>> outcome = await simulate_interview(app, persona, text=False, time_scale=5)   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from livekit.agents import llm, tts
from livekit.agents.voice.events import AgentStateChangedEvent, ConversationItemAddedEvent
from openai import AsyncOpenAI
from pydantic import BaseModel

from engine.clock import ScaledClock
from engine.transcript import InterviewRecord, Speaker, Turn
from pipeline.console import run_text_console
from pipeline.journal import JournalSink, ReplayingSink
from pipeline.ports import TeeSink
from pipeline.providers import ProviderStack, build_stack, stop_services
from pipeline.registry import BuildContext, build_one
from pipeline.resume import Resumable
from pipeline.session import InterviewSession, InterviewSetup
from pipeline.settings import ProviderSpec
from pipeline.worker import WorkerRuntime
from sima.context import AppContext
from sima.services import candidate_endpoint
from sima.simulation.alignment import Alignment, AnswerLog, alignment
from sima.simulation.audio import CandidateMic, RealtimeSpeaker, Tape, to_mono_int16
from sima.simulation.persona import Persona
from sima.simulation.replier import PersonaReplier
from sima.simulation.timing import ReplyTimingSummary

if TYPE_CHECKING:
    from evaluation.service import JobOutcome
    from storage.store import Store

log = logging.getLogger(__name__)

CANDIDATE_VOICE = ProviderSpec(provider="piper", voice="joe", options={"length_scale": 0.92})
SETTLE_SECONDS = 0.6  # the agent may say two things in a row; the candidate waits this long for the floor
LEAD_SECONDS = 2.5  # voiced reply held before the candidate starts talking, so the rest is written in time
STALL_SECONDS = 120.0  # no agent reply for this long means something is broken: stop rather than hang


class LatencyRow(BaseModel):
    """One candidate → agent exchange, in seconds (None where the providers gave no figure)."""

    turn: int
    phase: str | None
    eou_s: float | None
    stt_s: float | None
    llm_ttft_s: float | None
    tts_ttfb_s: float | None
    e2e_s: float | None


def latency_rows(turns: list[Turn]) -> list[LatencyRow]:
    """Pair each candidate turn with the agent turn that answered it."""
    rows = []
    for before, after in itertools.pairwise(turns):
        if before.speaker is Speaker.CANDIDATE and after.speaker is Speaker.AGENT:
            m_in, m_out = before.metrics, after.metrics
            rows.append(LatencyRow(
                turn=after.index, phase=after.phase.value if after.phase else None,
                eou_s=m_in.end_of_turn_delay if m_in else None, stt_s=m_in.transcription_delay if m_in else None,
                llm_ttft_s=m_out.llm_ttft if m_out else None, tts_ttfb_s=m_out.tts_ttfb if m_out else None,
                e2e_s=m_out.e2e_latency if m_out else None))
    return rows


class LatencyReport(BaseModel):
    """`latency.json`: how the interview kept in step with the candidate, and each exchange's latency."""

    answer_alignment: Alignment
    # spoken runs: what the candidate heard, every answer (see sima/simulation/timing.py)
    replies: ReplyTimingSummary | None = None
    turns: list[LatencyRow]


@dataclass
class SimulationOutcome:
    record: InterviewRecord
    run_dir: Path
    latency: list[LatencyRow]
    alignment: Alignment
    wav: Path | None = None
    wav_seconds: float = 0.0
    wall_seconds: float = 0.0
    evaluation: JobOutcome | None = None
    files: dict[str, Path] = field(default_factory=dict)
    replies: ReplyTimingSummary | None = None


Show = Callable[[str, str], None]


class _Queue:
    """Turns are queued for evaluation as soon as the interview finishes; the judge runs after the agent stops."""

    def __init__(self, store: Store, replaying: ReplayingSink):
        self.store = store
        self.replaying = replaying
        self.job_id: int | None = None

    async def __call__(self, record: InterviewRecord) -> None:
        await asyncio.to_thread(self.replaying.drain, 60)  # the database holds every turn before the run ends
        self.job_id = await asyncio.to_thread(self.store.enqueue_evaluation, record.interview_id, record)


async def simulate_interview(
    app: AppContext,
    persona: Persona,
    *,
    text: bool,
    time_scale: float,
    evaluate: bool = True,
    show: Show = lambda speaker, line: None,
    resume: str | None = None,
) -> SimulationOutcome:
    """One interview with `persona`, or with `resume`, the rest of the unfinished interview of that id (a killed
    run): same phase, budgets and asked questions, the transcript so far, and the persona's script goes on."""
    from sima.ops.resume import load_resumable
    from storage.store import Store

    config = app.config
    started = time.monotonic()
    store = Store(config.storage.url, webhook_urls=config.webhooks.urls)
    journal = JournalSink(config.paths.runs)
    resumable = load_resumable(store, journal, resume) if resume else None
    if resumable is not None:
        said = sum(t.speaker is Speaker.CANDIDATE for t in resumable.turns)
        persona = persona.model_copy(update={"scripted_answers": persona.scripted_answers[said:]})
    replaying = ReplayingSink(store, journal)
    queue = _Queue(store, replaying)
    ctx = BuildContext(cache_dir=config.paths.cache)
    setup = InterviewSetup(settings=config.interview, banks=app.banks, prompts=app.prompts,
                           profile=config.active_profile, config_hash=config.fingerprint())
    runtime = WorkerRuntime(setup=setup, build_ctx=ctx, setting_prefix=f"profiles.{config.profile}",
                            sink=TeeSink(journal, replaying), on_finished=queue,
                            clock=ScaledClock(time_scale))
    wav: Path | None = None
    wav_seconds = 0.0
    replies: ReplyTimingSummary | None = None
    try:
        # the candidate's model has a server of its own, so it never evicts the agent's cached prompt
        async with candidate_endpoint(config) as endpoint:
            client = AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key)
            replier = PersonaReplier(persona, app.prompts, client, endpoint.model)
            answers = AnswerLog(app.banks)
            if text:
                record = await _typed(runtime, replier, show, answers, resume=resumable)
            else:
                record, tape = await _spoken(runtime, replier, show, answers, resume=resumable)
                wav = _free(config.paths.runs / record.interview_id / "conversation.wav")
                wav_seconds = tape.write(wav)
                replies = tape.timing.summary()
    finally:
        await stop_services(ctx)  # the agent's and the candidate's model servers go before the judge's starts
    if record is None:
        raise RuntimeError("the interview did not finish")
    run_dir = config.paths.runs / record.interview_id
    outcome = SimulationOutcome(record=record, run_dir=run_dir, latency=latency_rows(record.turns),
                                alignment=alignment(record.turns, answers.expected), wav=wav, wav_seconds=wav_seconds,
                                replies=replies)
    outcome.files["transcript"] = run_dir / "transcript.json"
    outcome.files["transcript"].write_text(record.model_dump_json(indent=2))
    outcome.files["latency"] = run_dir / "latency.json"
    outcome.files["latency"].write_text(LatencyReport(answer_alignment=outcome.alignment, replies=replies,
                                                      turns=outcome.latency)
                                        .model_dump_json(indent=1) + "\n")
    if evaluate and queue.job_id is not None:
        outcome.evaluation = await _evaluate(app, store, queue.job_id)
    outcome.wall_seconds = time.monotonic() - started
    return outcome


def _free(path: Path) -> Path:
    """`path`, or, if a run before a resume wrote it, the first free `<stem>-2`, `-3`... beside it."""
    n = 1
    found = path
    while found.exists():
        n += 1
        found = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return found


async def _evaluate(app: AppContext, store: Store, job_id: int) -> JobOutcome | None:
    from evaluation.service import run_pending
    from sima.services import judge_endpoint

    config = app.config
    outcomes = await run_pending(store, lambda: judge_endpoint(config), config.evaluation, prompts=app.prompts,
                                 samples=config.judge_samples, job_ids=[job_id], banks=app.banks)
    return outcomes[0] if outcomes else None


async def _typed(runtime: WorkerRuntime, replier: PersonaReplier, show: Show, answers: AnswerLog, *,
                 resume: Resumable | None = None) -> InterviewRecord | None:
    """Typed turns through the same agent and session; the persona reads what the agent said since its last line
    (each reply is one candidate turn)."""
    heard: list[str] = []
    spoke = asyncio.Event()

    def write(speaker: str, line: str) -> None:
        heard.append(line)
        answers.heard(line)
        spoke.set()
        show("agent", line)

    async def lines() -> AsyncIterator[str]:
        while True:
            await spoke.wait()  # the greeting is generated after start() returns: answer nothing before it
            spoke.clear()
            said = " ".join(heard)
            heard.clear()
            answers.replying()
            reply = await replier.reply(said)
            show("candidate", reply)
            answers.turn_taken()
            yield reply

    return await run_text_console(runtime, lines=lines(), write=write, resume=resume)


async def _spoken(runtime: WorkerRuntime, replier: PersonaReplier, show: Show, answers: AnswerLog, *,
                  resume: Resumable | None = None) -> tuple[InterviewRecord | None, Tape]:
    stack: ProviderStack = await asyncio.to_thread(
        build_stack, runtime.setup.profile, runtime.build_ctx, runtime.setting_prefix)
    voice = build_one("tts", CANDIDATE_VOICE, runtime.build_ctx)
    tape = Tape(voice.sample_rate)
    mic, speaker = CandidateMic(voice.sample_rate, tape), RealtimeSpeaker(voice.sample_rate, tape)
    interview = InterviewSession(runtime.setup, stack, runtime.sink, on_finished=runtime.on_finished,
                                 clock=runtime.clock, snapshot=resume.snapshot if resume else None,
                                 previous_turns=resume.turns if resume else None,
                                 started_at=resume.started_at if resume else None)
    interview.session.input.audio = mic
    interview.session.output.audio = speaker
    heard: list[str] = []
    floor = asyncio.Event()  # set when the agent has stopped speaking and is listening
    closed = asyncio.Event()

    def on_item(ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, llm.ChatMessage) and ev.item.text_content:
            if ev.item.role == "assistant" and ev.item.interrupted:
                # the persona talked over it, going on with its answer: like a person, it answers what the agent
                # says once it has finished (the step again), not this too (two replies to one question)
                show("agent", f"{ev.item.text_content} [talked over]")
            elif ev.item.role == "assistant":
                heard.append(ev.item.text_content)
                answers.heard(ev.item.text_content)
                show("agent", ev.item.text_content)
            elif ev.item.role == "user":
                answers.turn_taken()
                show("heard", ev.item.text_content)

    def on_state(ev: AgentStateChangedEvent) -> None:
        if ev.new_state == "listening":
            floor.set()
        elif ev.new_state in ("thinking", "speaking"):
            floor.clear()

    interview.session.on("conversation_item_added", on_item)
    interview.session.on("agent_state_changed", on_state)
    def on_close(_: object) -> None:
        closed.set()
        mic.close()  # the session reads the mic no more: a reply being spoken must not wait forever

    interview.session.on("close", on_close)
    await interview.start()
    try:
        while not closed.is_set():
            if not await _wait_for_floor(floor, speaker, closed):
                break
            said = " ".join(heard)
            heard.clear()
            if not said:
                continue  # listening again without having said anything new: the floor is not ours yet
            floor.clear()
            answers.replying()
            await _say(replier.stream(said), voice, mic, closed, show)
    finally:
        record = await interview.aclose(reason="candidate_left")
    return record, tape


async def _wait_for_floor(floor: asyncio.Event, speaker: RealtimeSpeaker, closed: asyncio.Event) -> bool:
    """Wait until the agent has finished talking (and stayed quiet a moment); False if the session closed."""
    deadline = time.monotonic() + STALL_SECONDS
    while time.monotonic() < deadline:
        waits = [asyncio.ensure_future(floor.wait()), asyncio.ensure_future(closed.wait())]
        await asyncio.wait(waits, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        if closed.is_set():
            return False
        await speaker.idle.wait()
        await asyncio.sleep(SETTLE_SECONDS)
        if floor.is_set() and speaker.idle.is_set():
            return True
    log.error("the agent has not replied for %.0f s; ending the simulation", STALL_SECONDS)
    return False


async def _say(sentences: AsyncIterator[str], voice: tts.TTS, mic: CandidateMic, closed: asyncio.Event,
               show: Show) -> None:
    """Speak a reply as it is written: once LEAD_SECONDS of it are voiced, the candidate starts talking, and each
    later sentence is voiced and queued on the mic while the ones before it are said. The lead covers the model
    writing a long sentence after a short one ("Certainly." alone would be heard as the whole answer)."""
    speaking: list[asyncio.Future[None]] = []
    said: list[str] = []
    held: list[np.ndarray] = []
    first = len(mic.tape.utterances)
    async with contextlib.aclosing(sentences):
        async for sentence in sentences:
            if closed.is_set():
                break  # the goodbye was said while the persona was thinking
            held += [to_mono_int16(ev.frame, voice.sample_rate) async for ev in voice.synthesize(sentence)]
            said.append(sentence)
            if speaking or sum(map(len, held)) >= LEAD_SECONDS * voice.sample_rate:
                speaking.append(asyncio.ensure_future(mic.speak(np.concatenate(held))))
                held = []
    if held and not closed.is_set():
        speaking.append(asyncio.ensure_future(mic.speak(np.concatenate(held))))
    if said:
        show("candidate", " ".join(said))
    await asyncio.gather(*speaking)
    spoken = [u for u in mic.tape.utterances[first:] if u[1] > u[0]]
    if spoken:  # the answer as the candidate said it: its first sample to its last voiced one
        mic.tape.timing.answer(start=spoken[0][0], end=spoken[-1][1], text=" ".join(said))
