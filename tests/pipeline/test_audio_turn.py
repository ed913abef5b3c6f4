"""A spoken turn with no room: candidate speech from a WAV → Silero VAD → STT → LLM → TTS → agent speech into a WAV.

STT and TTS are the OpenAI plugins talking real HTTP to the scripted server's audio endpoints; the VAD is the real
Silero model on real speech (tests/pipeline/data/candidate_answer.wav, made with Piper's en_US-joe-medium voice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from livekit.plugins import openai, silero

from engine.transcript import Speaker
from pipeline.audio_io import WavFileInput, WavFileOutput, read_wav
from pipeline.providers import ProviderStack
from pipeline.session import InterviewSession
from tests.pipeline.conftest import DATA, make_setup, scripted_llm
from tests.pipeline.scripted import Call, ScriptedInterviewer
from tests.support.openai_server import ScriptedOpenAI

SAID = "My name is Ada, and I build backend services."


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def audio_stack(base_url: str) -> ProviderStack:
    return ProviderStack(
        llm=scripted_llm(base_url),
        stt=openai.STT(base_url=base_url, api_key="test", model="whisper-1"),
        tts=openai.TTS(base_url=base_url, api_key="test", model="tts-1", voice="coral", response_format="wav"),
        vad=silero.VAD.load(),
    )


async def test_spoken_turn_through_vad_stt_llm_tts(real_banks, templates, clock, journal, tmp_path: Path) -> None:
    script = ScriptedInterviewer(plans={SAID: [Call("next_question")]})
    async with ScriptedOpenAI(script, transcriber=lambda wav: SAID) as server:
        interview = InterviewSession(make_setup(real_banks, templates), audio_stack(server.base_url), journal,
                                     clock=clock)
        # paced like a live microphone: LiveKit derives the turn's timings from the wall clock
        mic = WavFileInput(DATA / "candidate_answer.wav", realtime=True, tail_silence=1.0)
        speaker = WavFileOutput(tmp_path / "agent.wav")
        interview.session.input.audio = mic
        interview.session.output.audio = speaker

        await interview.start(capture_run=True)
        assert speaker.segments == 1 and speaker.duration > 0.5  # the greeting, synthesised and played
        greeting_requests = len(server.speech_requests)
        mic.play()

        def answered() -> bool:
            speakers = [t.speaker for t in interview.turns]
            return Speaker.CANDIDATE in speakers and speakers[-1] is Speaker.AGENT

        await wait_until(answered)
        await interview.flush()
        record = await interview.aclose()

    # the VAD cut one utterance, the STT got it as a WAV upload, and the reply was spoken
    assert len(server.transcriptions) == 1
    assert server.transcriptions[0]["model"] == "whisper-1" and server.transcriptions[0]["audio_bytes"] > 32000
    candidate = next(t for t in interview.turns if t.speaker is Speaker.CANDIDATE)
    assert candidate.text == SAID
    assert candidate.metrics is not None and candidate.metrics.end_of_turn_delay is not None
    reply = interview.turns[-1]
    question = real_banks.question(reply.question_id or "")
    assert question is not None and question.text in reply.text
    assert reply.metrics is not None and reply.metrics.tts_ttfb is not None
    # the reply went to the TTS sentence by sentence
    assert " ".join(r["input"] for r in server.speech_requests[greeting_requests:]) == reply.text
    assert {r["voice"] for r in server.speech_requests} == {"coral"}

    samples, rate = read_wav(tmp_path / "agent.wav")
    assert rate == 24000 and len(samples) / rate > 1.0 and speaker.segments == 2
    assert record is not None and [t.text for t in journal.read(record.interview_id).turns] == [
        t.text for t in interview.turns]
