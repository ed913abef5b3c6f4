"""Benchmark doubles for STT and TTS: LiveKit providers with a fixed latency and no model behind them.

Both sides of a comparison get identical instances of these, so any difference in turn latency is the agent's own.
They go through LiveKit's real provider machinery (the VAD `StreamAdapter` around a non-streaming STT, the sentence
`StreamAdapter` and `AudioEmitter` around a non-streaming TTS), exactly as Whisper and Piper do in the local stack.

Example::

    >>> stt = FixedDelaySTT(delay=0.15, transcript=lambda: "Hello")      # doctest: +SKIP
    >>> tts = FixedDelayTTS(first_byte=0.10)                             # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
from livekit.agents import stt, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import AudioBuffer, shortuuid

TTS_RATE = 24_000
SECONDS_PER_CHAR = 0.004  # synthetic speech length; short, so instant playback keeps turns quick
MAX_SPEECH_SECONDS = 1.0
PUSH_MS = 100  # the double pushes its audio in chunks, as an HTTP provider streams bytes


class FixedDelaySTT(stt.STT):
    """Non-streaming STT answering, after exactly `delay` seconds, what `transcript()` returned when the request
    was made (whatever the audio: the callable is where a benchmark decides what was said)."""

    def __init__(self, *, delay: float, transcript: Callable[[], str]):
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.delay = delay
        self.transcript = transcript
        self.calls = 0

    @property
    def model(self) -> str:
        return "fixed-delay"

    @property
    def provider(self) -> str:
        return "bench"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        self.calls += 1
        text = self.transcript()  # what had been said when the audio was sent, not when the answer comes back
        await asyncio.sleep(self.delay)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=shortuuid(),
            alternatives=[stt.SpeechData(language="en", text=text, confidence=0.95)],
        )


class FixedDelayTTS(tts.TTS):
    """Non-streaming TTS whose first audio byte comes `first_byte` seconds after each request (a quiet tone)."""

    def __init__(self, *, first_byte: float):
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=TTS_RATE, num_channels=1)
        self.first_byte = first_byte
        self.requests = 0

    @property
    def model(self) -> str:
        return "fixed-delay"

    @property
    def provider(self) -> str:
        return "bench"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self.requests += 1
        return _FixedDelayStream(tts=self, input_text=text, conn_options=conn_options)


def tone(seconds: float, rate: int = TTS_RATE) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (0.1 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()


class _FixedDelayStream(tts.ChunkedStream):
    def __init__(self, *, tts: FixedDelayTTS, input_text: str, conn_options: APIConnectOptions):
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._double = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(request_id=shortuuid(), sample_rate=TTS_RATE, num_channels=1,
                                  mime_type="audio/pcm")
        await asyncio.sleep(self._double.first_byte)
        pcm = tone(min(max(len(self.input_text) * SECONDS_PER_CHAR, 0.1), MAX_SPEECH_SECONDS))
        step = TTS_RATE * PUSH_MS // 1000 * 2  # bytes per chunk, int16 mono
        for i in range(0, len(pcm), step):
            output_emitter.push(pcm[i:i + step])
        output_emitter.flush()
