"""File-backed audio for an AgentSession with no room: candidate speech from a WAV, agent speech into a WAV.

Set them on the session before `start()`; the whole voice path (VAD, STT, LLM, TTS) then runs exactly as in a room,
which makes audio turns testable and benchmarkable offline.

Example::

    >>> mic = WavFileInput(Path("answer.wav"))                       # doctest: +SKIP
    >>> speaker = WavFileOutput(Path("runs/demo/agent.wav"))         # doctest: +SKIP
    >>> session.input.audio, session.output.audio = mic, speaker     # doctest: +SKIP
    >>> await session.start(agent); mic.play()                       # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

FRAME_MS = 20


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """16-bit PCM samples (mono, int16) and the sample rate of a WAV file; stereo is mixed down."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        rate, channels = w.getframerate(), w.getnchannels()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())


class WavFileInput(io.AudioInput):
    """A microphone that says what is in a WAV file, once, after :meth:`play`, then stays silent and open.

    Silence is padded before and after the speech so a VAD sees a clean start and end. `realtime` paces frames
    like a live microphone; otherwise they arrive as fast as the session takes them.
    """

    def __init__(self, path: Path, *, lead_silence: float = 0.3, tail_silence: float = 1.5, realtime: bool = False):
        super().__init__(label=f"WavFile({path.name})")
        samples, self.sample_rate = read_wav(path)
        pad = np.zeros(int(self.sample_rate * lead_silence), dtype=np.int16)
        tail = np.zeros(int(self.sample_rate * tail_silence), dtype=np.int16)
        self._samples = np.concatenate([pad, samples, tail])
        self._per_frame = self.sample_rate * FRAME_MS // 1000
        self._pos = 0
        self._realtime = realtime
        self._playing = asyncio.Event()
        self._closed = asyncio.Event()
        self.finished = asyncio.Event()  # set once every sample has been delivered

    def play(self) -> None:
        """Start speaking (call after the agent's greeting, as a candidate would)."""
        self._playing.set()

    def close(self) -> None:
        self._closed.set()

    async def __anext__(self) -> rtc.AudioFrame:
        if self._pos >= len(self._samples):
            self.finished.set()
            await self._closed.wait()  # a silent microphone: nothing more, until the session lets go
            raise StopAsyncIteration
        if not self._playing.is_set():
            # silence until play(): the session sees an open, quiet microphone
            try:
                await asyncio.wait_for(self._playing.wait(), FRAME_MS / 1000)
            except TimeoutError:
                return self._frame(np.zeros(self._per_frame, dtype=np.int16))
        chunk = self._samples[self._pos : self._pos + self._per_frame]
        self._pos += len(chunk)
        if self._realtime:
            await asyncio.sleep(len(chunk) / self.sample_rate)
        return self._frame(chunk)

    def _frame(self, chunk: np.ndarray) -> rtc.AudioFrame:
        return rtc.AudioFrame(data=chunk.tobytes(), sample_rate=self.sample_rate, num_channels=1,
                              samples_per_channel=len(chunk))

    def on_detached(self) -> None:
        self.close()


class InstantPlayback(io.AudioOutput):
    """A speaker with no device: a segment starts playing with its first frame and counts as played in full as
    soon as it is flushed (or as interrupted when cleared). Subclasses see each frame in :meth:`capture_frame`
    and each finished segment in :meth:`segment_ended`."""

    def __init__(self, label: str, *, sample_rate: int):
        super().__init__(label=label, capabilities=io.AudioOutputCapabilities(pause=False), sample_rate=sample_rate)
        self._segment_samples = 0
        self.segments = 0  # segments played in full

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._segment_samples == 0:
            self.on_playback_started(created_at=time.time())
        self._segment_samples += frame.samples_per_channel

    def flush(self) -> None:
        super().flush()
        self._end_segment(interrupted=False)

    def clear_buffer(self) -> None:
        self._end_segment(interrupted=True)

    def segment_ended(self, *, interrupted: bool) -> None:
        """Called before LiveKit hears that the segment is over."""

    def _end_segment(self, *, interrupted: bool) -> None:
        if self._segment_samples == 0:
            return
        played = self._segment_samples / (self.sample_rate or 1)
        self._segment_samples = 0
        self.segments += 0 if interrupted else 1
        self.segment_ended(interrupted=interrupted)
        self.on_playback_finished(playback_position=played, interrupted=interrupted)


class WavFileOutput(InstantPlayback):
    """A speaker that records everything the agent says into one WAV file, rewritten after every segment."""

    def __init__(self, path: Path, *, sample_rate: int = 24000):
        super().__init__(f"WavFile({path.name})", sample_rate=sample_rate)
        self.path = path
        self._chunks: list[np.ndarray] = []

    @property
    def duration(self) -> float:
        return sum(len(c) for c in self._chunks) / (self.sample_rate or 1)

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        samples = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        self._chunks.append(samples)

    def segment_ended(self, *, interrupted: bool) -> None:
        write_wav(self.path, np.concatenate(self._chunks), self.sample_rate or 24000)
