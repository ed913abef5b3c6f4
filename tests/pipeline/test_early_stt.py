"""Early transcription: a non-streaming STT hears an answer piece by piece while it is spoken, cut at a pause.

The VAD is the real Silero model on real speech (candidate_answer.wav, twice, with a sentence pause between), paced
like a live microphone; the STT is LiveKit's OpenAI plugin over real HTTP to the scripted server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import time
import wave

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import stt
from livekit.plugins import openai, silero

from pipeline.audio_io import FRAME_MS, read_wav
from pipeline.early_stt import EarlyTranscription
from sima.simulation.timing import voiced_seconds
from tests.pipeline.conftest import DATA
from tests.support.openai_server import ScriptedOpenAI


def wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getnframes() / w.getframerate()


def trailing_silence(wav: bytes) -> float:
    """Seconds of silence at the end of `wav`."""
    with wave.open(io.BytesIO(wav)) as w:
        samples, rate = np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()
    return len(samples) / rate - voiced_seconds(samples, rate)


def answer(pause: float) -> tuple[np.ndarray, int]:
    """Two sentences (the same recording twice) with a `pause` between them, and a long silence after."""
    speech, rate = read_wav(DATA / "candidate_answer.wav")
    gap, tail = np.zeros(int(rate * pause), np.int16), np.zeros(rate, np.int16)
    return np.concatenate([np.zeros(rate // 4, np.int16), speech, gap, speech, tail]), rate


async def hear(adapter: stt.STT, samples: np.ndarray, rate: int) -> list[tuple[float, stt.SpeechEvent]]:
    """Push `samples` into a stream at real-time pace; every event with the time it came."""
    stream = adapter.stream()
    per_frame = rate * FRAME_MS // 1000
    events: list[tuple[float, stt.SpeechEvent]] = []

    async def collect() -> None:
        async for ev in stream:
            events.append((time.monotonic(), ev))

    collector = asyncio.create_task(collect())
    started = time.monotonic()
    for n, i in enumerate(range(0, len(samples), per_frame)):
        chunk = samples[i:i + per_frame]
        stream.push_frame(rtc.AudioFrame(chunk.tobytes(), rate, 1, len(chunk)))
        await asyncio.sleep(max(0.0, started + (n + 1) * FRAME_MS / 1000 - time.monotonic()))
    await asyncio.sleep(1.0)  # the last piece's transcription
    stream.end_input()
    await asyncio.wait_for(collector, 10)
    await stream.aclose()
    return events


async def test_the_first_sentence_is_transcribed_while_the_second_is_spoken() -> None:
    requested: list[tuple[float, float]] = []  # (when, seconds of audio)

    async def transcriber(wav: bytes) -> str:
        requested.append((time.monotonic(), wav_seconds(wav)))
        if len(requested) == 1:
            await asyncio.sleep(4.0)  # the first piece's answer comes last: the text must still be in order
            return "My name is Ada."
        return "I build backend services."

    samples, rate = answer(pause=0.1)  # with the recording's own edges, about 0.3 s of silence
    async with ScriptedOpenAI(lambda body: None, transcriber=transcriber) as server:  # type: ignore[arg-type]
        whisper = openai.STT(base_url=server.base_url, api_key="test", model="whisper-1")
        adapter = EarlyTranscription(stt=whisper, vad=silero.VAD.load(), pause=0.2, min_piece=2.0)
        events = await hear(adapter, samples, rate)

    kinds = [ev.type for _, ev in events if ev.type != stt.SpeechEventType.INTERIM_TRANSCRIPT]
    assert kinds == [stt.SpeechEventType.START_OF_SPEECH, stt.SpeechEventType.END_OF_SPEECH,
                     stt.SpeechEventType.FINAL_TRANSCRIPT]
    # the first piece's text came last, after the speech ended: no interim transcript then
    assert stt.SpeechEventType.INTERIM_TRANSCRIPT not in [ev.type for _, ev in events]
    [(first_at, first_len), (last_at, last_len)] = requested
    end_at = events[1][0]
    assert first_at < end_at - 2.5, "the first sentence went to the STT while the second was being spoken"
    # the rest went once the second sentence was over: at the pause that began the final silence, before the VAD
    # called the speech ended
    assert first_at + 3.0 < last_at <= end_at + 0.1
    assert 3.0 < first_len < 4.5 and last_len < first_len, "the second request held only the rest of the answer"
    final = events[2][1]
    assert final.alternatives[0].text == "My name is Ada. I build backend services."
    assert final.speech_end_time is not None


async def test_what_the_first_pieces_said_comes_as_interim_transcripts_while_the_answer_goes_on() -> None:
    texts = iter(["My name is Ada.", "I build backend services."])
    samples, rate = answer(pause=0.1)
    async with ScriptedOpenAI(lambda body: None, transcriber=lambda wav: next(texts)) as server:  # type: ignore[arg-type]
        whisper = openai.STT(base_url=server.base_url, api_key="test", model="whisper-1")
        adapter = EarlyTranscription(stt=whisper, vad=silero.VAD.load(), pause=0.2, min_piece=2.0)
        assert adapter.capabilities.interim_results
        events = await hear(adapter, samples, rate)

    end_at = next(at for at, ev in events if ev.type == stt.SpeechEventType.END_OF_SPEECH)
    interims = [(at, ev.alternatives[0].text) for at, ev in events if ev.type == stt.SpeechEventType.INTERIM_TRANSCRIPT]
    [final] = [ev.alternatives[0].text for _, ev in events if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert interims[0][1] == "My name is Ada." and interims[0][0] < end_at - 2.5, "while the second sentence is said"
    assert all(final.startswith(text) and at < end_at + 0.1 for at, text in interims)  # none after the speech ended
    assert final == "My name is Ada. I build backend services."


@pytest.mark.parametrize(("pause", "min_piece"), [(0.45, 2.0), (0.2, 5.0)], ids=["short-pause", "short-piece"])
async def test_one_piece_per_utterance_without_a_long_enough_pause_and_piece(pause: float, min_piece: float) -> None:
    samples, rate = answer(pause=0.1)
    requested: list[tuple[float, float]] = []  # (when, seconds of audio)

    def transcriber(wav: bytes) -> str:
        requested.append((time.monotonic(), wav_seconds(wav)))
        return "Ada, twice."

    async with ScriptedOpenAI(lambda body: None, transcriber=transcriber) as server:  # type: ignore[arg-type]
        whisper = openai.STT(base_url=server.base_url, api_key="test", model="whisper-1")
        adapter = EarlyTranscription(stt=whisper, vad=silero.VAD.load(), pause=pause, min_piece=min_piece)
        events = await hear(adapter, samples, rate)
    finals = [ev for _, ev in events if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert [ev.alternatives[0].text for ev in finals] == ["Ada, twice."]
    speech = (len(samples) - rate - rate // 4) / rate  # both sentences and the pause between them
    last_len = requested[-1][1]
    assert last_len >= speech - 0.3, "the transcript came from one request holding the whole utterance"
    if pause < 0.3:  # the pause between the sentences was a guess too, dropped when the candidate went on
        assert len(requested) == 2 and requested[0][1] < last_len - 2.0
    else:
        assert len(requested) == 1


async def test_a_short_last_piece_goes_to_the_stt_at_the_pause_before_the_speech_is_over() -> None:
    samples, rate = answer(pause=0.6)  # a pause the VAD ends the utterance at: two utterances, two transcripts
    requested: list[float] = []  # each piece's silence after its last word

    def transcriber(wav: bytes) -> str:
        requested.append(trailing_silence(wav))
        return "Ada."

    async with ScriptedOpenAI(lambda body: None, transcriber=transcriber) as server:  # type: ignore[arg-type]
        whisper = openai.STT(base_url=server.base_url, api_key="test", model="whisper-1")
        vad = silero.VAD.load(min_silence_duration=0.5)
        adapter = EarlyTranscription(stt=whisper, vad=vad, pause=0.2, min_piece=5.0)
        events = await hear(adapter, samples, rate)
    ends = [at for at, ev in events if ev.type == stt.SpeechEventType.END_OF_SPEECH]
    finals = [at for at, ev in events if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert len(ends) == len(finals) == len(requested) == 2
    for silence, ended, final in zip(requested, ends, finals, strict=True):
        # counted in the audio, not on the clock (a busy machine hands the VAD its windows late, in bursts): the
        # recording's own quiet end, then about 0.2 s of the pause
        assert silence < 0.45, "sent at the 0.2 s pause, not once the VAD's 0.5 s had passed"
        assert final >= ended


async def test_nothing_heard_gives_no_transcript() -> None:
    samples, rate = answer(pause=0.1)
    async with ScriptedOpenAI(lambda body: None, transcriber=lambda wav: "") as server:  # type: ignore[arg-type]
        whisper = openai.STT(base_url=server.base_url, api_key="test", model="whisper-1")
        adapter = EarlyTranscription(stt=whisper, vad=silero.VAD.load(), pause=0.2, min_piece=2.0)
        events = await hear(adapter, samples, rate)
    assert stt.SpeechEventType.FINAL_TRANSCRIPT not in [ev.type for _, ev in events]
