"""Piper speaks, Whisper listens, through the LiveKit TTS/STT interfaces, with the real models."""

from __future__ import annotations

import asyncio
import doctest
import io
import logging
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import APIConnectOptions, APIError, stt, tts
from livekit.plugins import silero

from bench import wer
from pipeline.early_stt import EarlyTranscription
from pipeline.local import piper_tts, whisper_stt
from pipeline.local.piper_tts import PiperTTS
from pipeline.local.whisper_stt import WhisperOptions, WhisperSTT, segment_confidence, to_whisper_input
from pipeline.registry import ProviderError
from tests.local.conftest import SENTENCE

log = logging.getLogger(__name__)


def speech_seconds(frames: list[rtc.AudioFrame]) -> float:
    return sum(f.duration for f in frames)


def test_wer_helper() -> None:
    assert doctest.testmod(wer).failed == 0


def test_unknown_voice_lists_known_voices() -> None:
    with pytest.raises(ProviderError, match=r"unknown piper voice 'amy'; known voices: joe"):
        PiperTTS(voice="amy")


def test_unknown_synthesis_option_is_rejected() -> None:
    with pytest.raises(ProviderError, match=r"unknown option\(s\) speed; known: length_scale"):
        PiperTTS(synthesis={"speed": 1.2})


def test_confidence_is_the_geometric_mean_token_probability() -> None:
    assert segment_confidence([]) == 0.0
    assert segment_confidence([(0.0, 1.0)]) == 1.0
    assert segment_confidence([(-0.1, 2.0), (-0.4, 1.0)]) == pytest.approx(np.exp(-0.2))


def test_whisper_input_is_16k_mono_float() -> None:
    seconds, rate = 0.5, 48_000
    t = np.arange(int(seconds * rate)) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 10_000).astype(np.int16)
    stereo = np.stack([tone, tone], axis=1).reshape(-1)
    frame = rtc.AudioFrame(stereo.tobytes(), rate, 2, len(tone))

    samples = to_whisper_input(frame)

    assert samples.dtype == np.float32
    assert abs(len(samples) - 8_000) <= 160  # the resampler may hold back a few ms
    assert 0.25 < np.abs(samples).max() < 0.35


@pytest.mark.local_models
def test_piper_speaks_a_sentence_to_wav(piper_speech: list[rtc.AudioFrame], tmp_path: Path) -> None:
    wav_path = tmp_path / "sentence.wav"
    wav_path.write_bytes(rtc.combine_audio_frames(piper_speech).to_wav_bytes())

    with wave.open(io.BytesIO(wav_path.read_bytes())) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22_050)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert 5.0 < len(pcm) / 22_050 < 15.0  # two sentences of natural speech
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 500  # not silence


@pytest.mark.local_models
async def test_piper_streams_audio_sentence_by_sentence(piper: PiperTTS) -> None:
    started = time.perf_counter()
    arrivals: list[float] = []
    audio = 0.0
    async for ev in piper.synthesize(SENTENCE):
        arrivals.append(time.perf_counter() - started)
        audio += ev.frame.duration
    total = time.perf_counter() - started

    ttfb = arrivals[0]
    log.info("piper: ttfb %.3f s, %.2f s of audio in %.2f s, RTF %.3f", ttfb, audio, total, total / audio)
    assert ttfb < 0.75 * total  # the first sentence is out before the second is synthesised
    assert total / audio < 0.5


@pytest.mark.local_models
async def test_whisper_transcribes_piper_speech(whisper: WhisperSTT, piper_speech: list[rtc.AudioFrame]) -> None:
    started = time.perf_counter()
    event = await whisper.recognize(piper_speech)
    elapsed = time.perf_counter() - started

    (alt,) = event.alternatives
    error = wer.word_error_rate(SENTENCE, alt.text)
    log.info("whisper: %r, WER %.3f, confidence %.2f, RTF %.3f", alt.text, error, alt.confidence,
             elapsed / speech_seconds(piper_speech))
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    assert error <= 0.10
    assert alt.language == "en"
    assert 0.5 < alt.confidence <= 1.0


@pytest.mark.local_models
async def test_whisper_encodes_a_short_answer_with_its_padding_trimmed(
    whisper: WhisperSTT, piper_speech: list[rtc.AudioFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    from faster_whisper import WhisperModel

    encoded: list[int] = []
    encode = WhisperModel.encode

    def noted(self: WhisperModel, features: np.ndarray) -> object:
        encoded.append(features.shape[-1])
        return encode(self, features)

    monkeypatch.setattr(WhisperModel, "encode", noted)
    event = await whisper.recognize(piper_speech)

    seconds = speech_seconds(piper_speech)
    # the speech and 10 s of padding, in whole seconds, not faster-whisper's 30-second window
    assert len(encoded) == 1 and seconds + 10 <= encoded[0] / 100 < seconds + 11.05 and encoded[0] < 3000
    assert wer.word_error_rate(SENTENCE, event.alternatives[0].text) <= 0.10


@pytest.mark.local_models
async def test_whisper_takes_48k_stereo_input(whisper: WhisperSTT, piper_speech: list[rtc.AudioFrame]) -> None:
    mono = rtc.combine_audio_frames(piper_speech)
    resampler = rtc.AudioResampler(mono.sample_rate, 48_000, num_channels=1)
    pcm = np.concatenate([np.frombuffer(f.data, np.int16) for f in [*resampler.push(mono), *resampler.flush()]])
    stereo = rtc.AudioFrame(np.repeat(pcm, 2).tobytes(), 48_000, 2, len(pcm))

    event = await whisper.recognize(stereo)

    assert wer.word_error_rate(SENTENCE, event.alternatives[0].text) <= 0.10


@pytest.mark.local_models
async def test_recognition_does_not_block_the_event_loop(
    whisper: WhisperSTT, piper_speech: list[rtc.AudioFrame]
) -> None:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await whisper.recognize(piper_speech)
    done.set()
    await tick

    assert len(gaps) > 5 and max(gaps) < 0.1


@pytest.mark.local_models
async def test_whisper_behind_the_vad_transcribes_an_answer_in_pieces_as_it_is_spoken(
    whisper: WhisperSTT, piper: PiperTTS
) -> None:
    """As the session uses it: each sentence said as a simulated candidate says it (voiced on its own, queued
    straight after the one before), the first sentence transcribed during the second, the text whole at the end."""
    adapter = EarlyTranscription(stt=whisper, vad=silero.VAD.load(), pause=0.2, min_piece=3.0)
    pieces: list[float] = []
    adapter.on("metrics_collected", lambda m: pieces.append(m.audio_duration))
    sentences = [s + "." for s in SENTENCE.rstrip(".").split(". ")]
    frames = [ev.frame for s in sentences for ev in [ev async for ev in piper.synthesize(s)]]
    rate = frames[0].sample_rate
    silence = rtc.AudioFrame(bytes(2 * rate // 50), rate, 1, rate // 50)  # 20 ms

    finals: list[str] = []
    stream = adapter.stream()
    for frame in [silence] * 25 + frames + [silence] * 75:
        stream.push_frame(frame)
    stream.end_input()
    async for event in stream:
        if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
            finals.append(event.alternatives[0].text)
    await stream.aclose()

    assert len(finals) == 1 and len(pieces) == 2, (finals, pieces)
    assert wer.word_error_rate(SENTENCE, finals[0]) <= 0.10


@pytest.mark.local_models
def test_models_are_loaded_once_per_process(whisper: WhisperSTT, piper: PiperTTS) -> None:
    assert whisper_stt.load_model(WhisperOptions()) is whisper_stt.load_model(WhisperOptions(beam_size=1))
    voice = piper_tts.voice_paths("joe")
    assert piper_tts.load_voice(*voice) is piper_tts.load_voice(*voice)


@pytest.mark.local_models
async def test_piper_behind_the_sentence_stream_adapter_round_trips_through_whisper(
    piper: PiperTTS, whisper: WhisperSTT
) -> None:
    """AgentSession feeds a non-streaming TTS through tts.StreamAdapter, token by token as the LLM writes."""
    adapter = tts.StreamAdapter(tts=piper)
    stream = adapter.stream()
    for word in SENTENCE.split(" "):
        stream.push_text(word + " ")
    stream.end_input()
    frames = [ev.frame async for ev in stream]
    await stream.aclose()

    assert {f.sample_rate for f in frames} == {22_050}
    event = await whisper.recognize(frames)
    assert wer.word_error_rate(SENTENCE, event.alternatives[0].text) <= 0.10


@pytest.mark.local_models
async def test_interrupted_synthesis_stops_cleanly(piper: PiperTTS) -> None:
    stream = piper.synthesize(" ".join([SENTENCE] * 6))
    await stream.__anext__()  # the candidate barges in after the first audio

    started = time.perf_counter()
    await stream.aclose()

    assert time.perf_counter() - started < 1.0
    assert (await piper.synthesize("Go on.").collect()).duration > 0.2


async def test_synthesis_failures_surface_as_api_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: PiperTTS, text: str, cancelled: object) -> Iterator[bytes]:
        yield b"\0\0" * 2205
        raise RuntimeError("espeak exploded")

    monkeypatch.setattr(PiperTTS, "_chunks", broken)

    with pytest.raises(APIError, match=r"piper failed to synthesise 'Hello\.': espeak exploded"):
        await PiperTTS().synthesize("Hello.", conn_options=APIConnectOptions(max_retry=0)).collect()
