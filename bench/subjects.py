"""What the latency benchmarks measure: a bare LiveKit agent and SIMA's interview session, over identical providers.

A :class:`Subject` is one running AgentSession with a :class:`~bench.audio.BenchMic` and a
:class:`~bench.audio.BenchSpeaker` attached. :func:`bare_subject` is a plain `livekit.agents.Agent` with a fixed
instruction; :func:`sima_subject` is the real :class:`~pipeline.session.InterviewSession` (engine, shipped banks and
templates, the tool-driven or guided agent, and per-turn persistence to SQLite and the JSON-lines journal, as the
worker wires it). Both get the same AgentSession options (:func:`pipeline.session.session_options`) and providers
built the same way: the OpenAI plugin over HTTP to the scripted LLM, fixed-delay STT/TTS doubles, one Silero VAD.

The interview runs on a fake clock that never moves, so no phase timer speaks in the middle of a measured turn.

Example::

    >>> subject = await sima_subject(BenchStack(base_url, vad), tmp, guided=False)   # doctest: +SKIP
    >>> latency = await subject.voice_turn()                                       # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from livekit.agents import Agent, AgentSession, function_tool
from livekit.agents import vad as lk_vad
from livekit.plugins import openai

from bench.audio import BenchMic, BenchSpeaker, utterance
from bench.doubles import FixedDelaySTT, FixedDelayTTS
from bench.llm_server import MODEL
from engine.banks import BankSet, load_banks
from engine.clock import FakeClock
from engine.phases import Phase
from engine.prompts import PromptLibrary
from engine.settings import InterviewSettings
from pipeline.journal import JournalSink
from pipeline.ports import TeeSink
from pipeline.providers import ProviderStack
from pipeline.registry import BuildContext, build_one
from pipeline.session import InterviewSession, InterviewSetup, session_options
from pipeline.settings import ProfileSettings
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
STT_DELAY = 0.15  # seconds from the end of an utterance to its transcript
TTS_FIRST_BYTE = 0.10
LLM_FIRST_TOKEN = 0.30
# what the STT double "hears"; 12+ words, so guided mode moves on instead of asking a follow-up
ANSWER = "My name is Ada and I have built backend services in Python and Go for about six years."
BARE_INSTRUCTIONS = "You are a friendly job interviewer. Ask one question at a time and keep replies short."
NEXT_QUESTION = "Tell me about a system you designed and the trade-offs you made."
TURN_TIMEOUT = 30.0
POLL = 0.01


@cache
def shared_data() -> tuple[BankSet, PromptLibrary]:
    return load_banks(ROOT / "question_banks"), PromptLibrary(ROOT / "prompt_templates")


def profile(*, guided: bool, verbatim: bool = False) -> ProfileSettings:
    """Session settings: VAD turn detection (a fixed 0.5 s silence, so every turn waits alike), guided or tool-driven,
    verbatim phrasing (the shipped local mode) or not; providers are built by the benchmark."""
    return ProfileSettings.model_validate({"stt": {"provider": "bench"}, "llm": {"provider": "bench"},
                                           "tts": {"provider": "bench"}, "guided": guided,
                                           "phrasing": "verbatim" if verbatim else "llm"})


def shipped_vad() -> lk_vad.VAD:
    """The VAD a profile gets unless it names another (LiveKit's native Silero), built by its registry entry."""
    spec = ProfileSettings.model_fields["vad"].get_default(call_default_factory=True)
    return build_one("vad", spec, BuildContext(setting="bench.vad"))


@dataclass
class BenchStack:
    """Builds identical provider stacks around one loaded VAD (LiveKit's native Silero, as shipped).

    Each stack gets a VAD object of its own over the loaded model, as SIMA's worker gives each job
    (:meth:`~pipeline.providers.ProviderStack.for_session`); with `shared_vad`, every stack uses the one VAD
    object, as jobs sharing a process's prewarmed stack naively would (O(N²) metrics callbacks).
    """

    base_url: str
    vad: lk_vad.VAD
    answer: Callable[[], str] = lambda: ANSWER
    shared_vad: bool = False

    def build(self) -> ProviderStack:
        stack = ProviderStack(llm=openai.LLM(base_url=self.base_url, api_key="bench", model=MODEL),
                              stt=FixedDelaySTT(delay=STT_DELAY, transcript=self.answer),
                              tts=FixedDelayTTS(first_byte=TTS_FIRST_BYTE), vad=self.vad)
        return stack if self.shared_vad else stack.for_session()


@dataclass
class Subject:
    name: str
    session: AgentSession
    mic: BenchMic
    speaker: BenchSpeaker
    close: Callable[[], Awaitable[object]]
    interview: InterviewSession | None = None
    restart: Callable[[], Awaitable[Subject]] | None = None

    @property
    def near_end(self) -> bool:
        """An interview in its last phase: a few more turns would end it (and close the session)."""
        engine = self.interview.engine if self.interview is not None else None
        return engine is not None and (engine.ended or engine.phase is Phase.WRAP_UP)

    async def renewed(self) -> Subject:
        """This subject, or a fresh interview in its place when this one is nearly over."""
        if not self.near_end or self.restart is None:
            return self
        await self.close()
        return await self.restart()

    async def wait_idle(self, timeout: float = TURN_TIMEOUT) -> None:
        """Until the agent has finished speaking and listens again (a silent candidate may be "away" by now)."""
        async with asyncio.timeout(timeout):
            while not (self.session.agent_state == "listening" and self.session.user_state != "speaking"):
                await asyncio.sleep(POLL)

    async def voice_turn(self, timeout: float = TURN_TIMEOUT) -> float:
        """Say the utterance; seconds from its last spoken sample to the reply's first audio frame."""
        await self.wait_idle(timeout)
        first = self.speaker.arm()
        ended = await self.mic.say(utterance())
        async with asyncio.timeout(timeout):
            latency = await first - ended
        await self.wait_idle(timeout)
        return latency

    async def text_turn(self, text: str = ANSWER) -> float:
        """A typed turn (`session.run`): seconds from the call to the reply's first audio frame."""
        await self.wait_idle()
        first = self.speaker.arm()
        started = time.perf_counter()
        async with asyncio.timeout(TURN_TIMEOUT):
            await self.session.run(user_input=text)
            latency = await first - started
        await self.wait_idle()
        return latency


def _attach(session: AgentSession) -> tuple[BenchMic, BenchSpeaker]:
    mic, speaker = BenchMic(), BenchSpeaker()
    session.input.audio = mic
    session.output.audio = speaker
    return mic, speaker


class BareToolAgent(Agent):
    """A plain LiveKit agent with one function tool, for turns in which the LLM calls a tool before replying."""

    def __init__(self) -> None:
        super().__init__(instructions=BARE_INSTRUCTIONS)

    @function_tool
    async def next_question(self) -> str:
        """The next question to ask the candidate."""
        return NEXT_QUESTION


async def bare_subject(stack: BenchStack, *, guided_settings: bool = False, tool: bool = False) -> Subject:
    """A plain LiveKit agent; `guided_settings` gives it the session options of SIMA's guided mode, `tool` a
    `next_question` tool."""
    providers = stack.build()
    session = AgentSession(stt=providers.stt, llm=providers.llm, tts=providers.tts, vad=providers.vad,
                           **session_options(profile(guided=guided_settings), providers))
    mic, speaker = _attach(session)
    await session.start(BareToolAgent() if tool else Agent(instructions=BARE_INSTRUCTIONS))
    name = "bare" + ("-guided-settings" if guided_settings else "") + ("-tool" if tool else "")
    return Subject(name, session, mic, speaker, session.aclose)


async def sima_subject(stack: BenchStack, folder: Path, *, guided: bool, verbatim: bool = False,
                       store: Store | None = None, name: str | None = None) -> Subject:
    """SIMA's interview session as the worker builds it (SQLite + journal sink); waits out its greeting."""
    banks, prompts = shared_data()
    setup = InterviewSetup(settings=InterviewSettings(), banks=banks, prompts=prompts,
                           profile=profile(guided=guided, verbatim=verbatim), config_hash="bench")
    store = store or Store(f"sqlite:///{folder / 'sima.db'}")
    interview = InterviewSession(setup, stack.build(), TeeSink(store, JournalSink(folder / "runs")),
                                 clock=FakeClock())
    mic, speaker = _attach(interview.session)
    await interview.start(capture_run=True)

    async def restart() -> Subject:
        return await sima_subject(stack, folder, guided=guided, verbatim=verbatim, store=store, name=name)

    default = ("sima-verbatim" if verbatim else "sima-guided") if guided else "sima-tools"
    return Subject(name or default, interview.session, mic, speaker, interview.aclose, interview, restart)
