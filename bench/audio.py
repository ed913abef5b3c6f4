"""A microphone that knows when the candidate stopped talking, and a speaker that knows when the agent started.

:class:`BenchMic` paces frames on the wall clock like a room's audio track (16 kHz, 50 ms frames, as LiveKit's room
input delivers them to SIMA's worker, `pipeline.worker.ROOM_INPUT_RATE`) and keeps that pace even when the event
loop is late, so a busy loop shows up as latency rather than as slowed-down speech. :meth:`BenchMic.say` returns the
wall-clock moment the last speech sample was spoken. :class:`BenchSpeaker` records the moment the first agent audio
frame of a reply arrives; playback is instantaneous. The difference of the two is the end-of-speech → first-audio
latency a candidate hears.

Example::

    >>> mic, speaker = BenchMic(), BenchSpeaker()                       # doctest: +SKIP
    >>> session.input.audio, session.output.audio = mic, speaker        # doctest: +SKIP
    >>> first = speaker.arm(); ended = await mic.say(utterance())       # doctest: +SKIP
    >>> latency = await first - ended                                   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from functools import cache
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from pipeline.audio_io import InstantPlayback, read_wav
from pipeline.worker import ROOM_INPUT_RATE

ROOT = Path(__file__).resolve().parent.parent
# "My name is Ada," (Piper speech, see tests/pipeline/data/README.md): the first 1.1 s of the answer
SPEECH_WAV = ROOT / "tests" / "pipeline" / "data" / "candidate_answer.wav"
SPEECH_SECONDS = 1.1
MIC_RATE = ROOM_INPUT_RATE
FRAME_SECONDS = 0.05
_PER_FRAME = int(MIC_RATE * FRAME_SECONDS)


@cache
def utterance() -> np.ndarray:
    """A short spoken phrase at the mic's rate, int16, ending on the last speech sample (a 20 ms fade)."""
    samples, rate = read_wav(SPEECH_WAV)
    speech = samples[: int(rate * SPEECH_SECONDS)].astype(np.float32)
    fade = int(rate * 0.02)
    speech[-fade:] *= np.linspace(1.0, 0.0, fade)
    # linear resampling is plenty for a VAD; the STT is a double and never listens
    t_out = np.arange(int(len(speech) * MIC_RATE / rate)) / MIC_RATE
    return np.interp(t_out, np.arange(len(speech)) / rate, speech).astype(np.int16)


class BenchMic(io.AudioInput):
    """Silence, except for what :meth:`say` queues; frames are due at fixed wall-clock times."""

    def __init__(self) -> None:
        super().__init__(label="BenchMic")
        self._frames: deque[tuple[bytes, int, asyncio.Future[float] | None]] = deque()
        self._silence = bytes(_PER_FRAME * 2)
        self._due: float | None = None
        self._closed = False

    def say(self, samples: np.ndarray) -> asyncio.Future[float]:
        """Queue `samples`; the future gets the `time.perf_counter()` at which the last one was spoken."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        chunks = [samples[i:i + _PER_FRAME] for i in range(0, len(samples), _PER_FRAME)]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            padded = np.pad(chunk, (0, _PER_FRAME - len(chunk))) if len(chunk) < _PER_FRAME else chunk
            self._frames.append((padded.astype(np.int16).tobytes(), len(chunk), done if last else None))
        return done

    def close(self) -> None:
        self._closed = True

    def on_detached(self) -> None:
        self.close()

    async def __anext__(self) -> rtc.AudioFrame:
        if self._closed:
            raise StopAsyncIteration
        now = time.perf_counter()
        if self._due is None:
            self._due = now
        start = self._due  # the frame covers [start, start + FRAME_SECONDS] of spoken time
        self._due += FRAME_SECONDS
        if self._due > now:
            await asyncio.sleep(self._due - now)
        data, spoken, done = self._frames.popleft() if self._frames else (self._silence, _PER_FRAME, None)
        if done is not None and not done.done():
            done.set_result(start + spoken / MIC_RATE)
        return rtc.AudioFrame(data=data, sample_rate=MIC_RATE, num_channels=1, samples_per_channel=_PER_FRAME)


class BenchSpeaker(InstantPlayback):
    """Counts agent audio; :meth:`arm` returns a future of the next first frame's `time.perf_counter()`."""

    def __init__(self, sample_rate: int = 24_000):
        super().__init__("BenchSpeaker", sample_rate=sample_rate)
        self._first: asyncio.Future[float] | None = None

    def arm(self) -> asyncio.Future[float]:
        self._first = asyncio.get_running_loop().create_future()
        return self._first

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if self._first is not None and not self._first.done():
            self._first.set_result(time.perf_counter())
        await super().capture_frame(frame)
