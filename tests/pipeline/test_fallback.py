"""Provider fallback, built from config: each first endpoint is down, the second answers, the interview goes on.

The LLM's and STT's first servers refuse connections (a closed port); the TTS's first server answers HTTP 500.
When no LLM answers at all, the agent says the step's own words (the templates' and the bank's).
"""

from __future__ import annotations

import socket
from pathlib import Path

from livekit.agents import llm, stt, tts

from engine.transcript import Speaker
from pipeline.audio_io import WavFileInput, WavFileOutput
from pipeline.early_stt import EarlyTranscription
from pipeline.providers import build_stack
from pipeline.registry import BuildContext
from pipeline.session import InterviewSession, InterviewSetup
from pipeline.settings import ProfileSettings
from tests.pipeline.conftest import DATA, make_setup, short_settings, text_stack
from tests.pipeline.scripted import Call, ScriptedInterviewer
from tests.pipeline.test_audio_turn import SAID, wait_until
from tests.pipeline.test_interview_guided import INTRO
from tests.support.openai_server import Reply, ScriptedOpenAI


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more: connections are refused


def chain(kind: str, urls: list[str]) -> list[dict[str, object]]:
    extra = {"stt": {"model": "whisper-1"}, "llm": {"model": "scripted-model"},
             "tts": {"model": "tts-1", "voice": "coral", "options": {"response_format": "wav"}}}[kind]
    return [{"provider": "openai-compatible", "base_url": url, **extra} for url in urls]


async def test_first_llm_stt_and_tts_down_the_second_answers(real_banks, templates, clock, journal,
                                                             tmp_path: Path) -> None:
    live = ScriptedOpenAI(ScriptedInterviewer(plans={SAID: [Call("next_question")]}), transcriber=lambda wav: SAID)
    failing = ScriptedOpenAI(lambda body: Reply(status=500))
    failing.audio_status = 500
    async with live, failing:
        dead = closed_port_url()
        profile = ProfileSettings.model_validate({
            "stt": chain("stt", [dead, live.base_url]),
            "llm": chain("llm", [dead, live.base_url]),
            "tts": chain("tts", [failing.base_url, live.base_url]),
            "fallback": {"attempt_timeout": 3, "max_retry": 0, "retry_interval": 0.1},
        })
        stack = build_stack(profile, BuildContext(env={}), "profiles.test")
        assert isinstance(stack.llm, llm.FallbackAdapter)
        assert isinstance(stack.tts, tts.FallbackAdapter)
        # Whisper-style STTs: one VAD cut, then each STT tries the same piece of the utterance
        assert isinstance(stack.stt, EarlyTranscription) and isinstance(stack.stt.wrapped_stt, stt.FallbackAdapter)

        setup = InterviewSetup(settings=short_settings(), banks=real_banks, prompts=templates, profile=profile)
        interview = InterviewSession(setup, stack, journal, clock=clock)
        mic = WavFileInput(DATA / "candidate_answer.wav", realtime=True, tail_silence=1.0)
        interview.session.input.audio = mic
        interview.session.output.audio = WavFileOutput(tmp_path / "agent.wav")

        await interview.start(capture_run=True)  # the greeting: LLM and TTS fail over
        mic.play()
        await wait_until(lambda: [t.speaker for t in interview.turns][-2:] == [Speaker.CANDIDATE, Speaker.AGENT])
        await interview.aclose()

    assert failing.speech_requests, "the first TTS was tried"
    assert live.requests and live.speech_requests and live.transcriptions
    assert [t.text for t in interview.turns if t.speaker is Speaker.CANDIDATE] == [SAID]
    assert interview.turns[-1].question_id is not None  # the interview moved on to its first question


async def test_when_every_llm_fails_the_step_is_said_in_its_own_words(real_banks, templates, clock, journal) -> None:
    """The greeting (tools mode) and a guided step survive an LLM that fails: their exact words are said instead."""
    for guided in (False, True):
        async with ScriptedOpenAI(lambda body: Reply(status=400)) as server:  # 400: failed at once, not retried
            interview = InterviewSession(make_setup(real_banks, templates, guided=guided), text_stack(server.base_url),
                                         journal, clock=clock)
            await interview.start(capture_run=True)
            greeting = interview.turns[0].text
            first = interview.engine.current_question  # guided mode puts the bank's first question at once
            ending = first.text if guided and first else "how many years of experience you have?"
            assert greeting.startswith("Hello, and welcome! I'm SIMA") and greeting.endswith(ending)
            if guided:
                await interview.session.run(user_input=INTRO)
                question = interview.engine.current_question
                assert question is not None and interview.turns[-1].text.endswith(question.text)
            await interview.aclose()
        assert server.requests, "the LLM was asked first"
