"""The simulated candidate's ears and mouth: a live microphone fed with synthesised speech, a real-time speaker,
and a recorder that lays both onto one conversation WAV.

Both devices run at real-time pace, as a room would: the agent's speech takes as long to "play" as it lasts, and the
candidate's speech reaches the VAD frame by frame, so end-of-turn detection and latency figures are honest.

Example::

    >>> mic, speaker = CandidateMic(22050, tape), RealtimeSpeaker(22050, tape)       # doctest: +SKIP
    >>> session.input.audio, session.output.audio = mic, speaker                      # doctest: +SKIP
    >>> await mic.speak(samples)                                                      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from pipeline.audio_io import FRAME_MS, write_wav
from sima.simulation.timing import ReplyTiming, voiced_seconds


@dataclass
class Tape:
    """Everything said, by whom and when (wall-clock seconds), for the conversation WAV."""

    sample_rate: int
    origin: float = field(default_factory=time.monotonic)
    pieces: list[tuple[float, np.ndarray]] = field(default_factory=list)
    # the candidate's utterances, from their first sample to their last voiced one (monotonic seconds)
    utterances: list[tuple[float, float]] = field(default_factory=list)
    timing: ReplyTiming = field(default_factory=ReplyTiming)

    def add(self, at: float, samples: np.ndarray) -> None:
        self.pieces.append((at - self.origin, samples))

    def write(self, path: Path) -> float:
        """Mix every piece at its time into one mono WAV; returns its duration in seconds."""
        end = max((int(t * self.sample_rate) + len(s) for t, s in self.pieces), default=0)
        mix = np.zeros(end, dtype=np.int32)
        for t, s in self.pieces:
            start = int(t * self.sample_rate)
            mix[start : start + len(s)] += s
        write_wav(path, np.clip(mix, -32768, 32767).astype(np.int16), self.sample_rate)
        return end / self.sample_rate


def to_mono_int16(frame: rtc.AudioFrame, rate: int) -> np.ndarray:
    if frame.sample_rate != rate:
        raise ValueError(f"expected {rate} Hz audio, got {frame.sample_rate} Hz")
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return samples


class CandidateMic(io.AudioInput):
    """A microphone that is silent until told to :meth:`speak`, then delivers that speech in real time."""

    def __init__(self, sample_rate: int, tape: Tape):
        super().__init__(label="SimulatedCandidate")
        self.sample_rate = sample_rate
        self.tape = tape
        self._per_frame = sample_rate * FRAME_MS // 1000
        self._queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[None]]] = asyncio.Queue()
        self._current: tuple[np.ndarray, asyncio.Future[None]] | None = None
        self._pos = 0
        self._next_at: float | None = None
        self._closed = False

    async def speak(self, samples: np.ndarray) -> None:
        """Say `samples` (mono int16 at this mic's rate); returns once the last frame has been delivered, or at
        once if the mic is closed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._closed:
            return
        self._queue.put_nowait((samples, done))
        await done

    async def __anext__(self) -> rtc.AudioFrame:
        if self._closed:
            raise StopAsyncIteration
        # pace frames like a live microphone, without drifting
        now = time.monotonic()
        self._next_at = max(self._next_at or now, now - FRAME_MS / 1000)
        await asyncio.sleep(max(self._next_at - now, 0))
        self._next_at += FRAME_MS / 1000
        if self._current is None and not self._queue.empty():
            self._current, self._pos = self._queue.get_nowait(), 0
            started = time.monotonic()
            self.tape.add(started, self._current[0])
            self.tape.utterances.append((started, started + voiced_seconds(self._current[0], self.sample_rate)))
        if self._current is None:
            chunk = np.zeros(self._per_frame, dtype=np.int16)
        else:
            samples, done = self._current
            chunk = samples[self._pos : self._pos + self._per_frame]
            self._pos += len(chunk)
            if self._pos >= len(samples):
                self._current = None
                if not done.done():
                    done.set_result(None)
            if len(chunk) < self._per_frame:
                chunk = np.concatenate([chunk, np.zeros(self._per_frame - len(chunk), dtype=np.int16)])
        return rtc.AudioFrame(data=chunk.tobytes(), sample_rate=self.sample_rate, num_channels=1,
                              samples_per_channel=len(chunk))

    def close(self) -> None:
        """Nobody listens any more: stop, and release whoever waits for their speech to be heard."""
        self._closed = True
        pending = [self._current] if self._current else []
        while not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for _, done in pending:
            if not done.done():
                done.set_result(None)
        self._current = None

    def on_detached(self) -> None:
        self.close()


class RealtimeSpeaker(io.AudioOutput):
    """Plays the agent's speech in real time (nobody hears it; it is taped) and reports playback like a room."""

    def __init__(self, sample_rate: int, tape: Tape):
        super().__init__(label="SimulatedRoomSpeaker", capabilities=io.AudioOutputCapabilities(pause=False),
                         sample_rate=sample_rate)
        self.tape = tape
        self._segment_start: float | None = None
        self._segment_samples = 0
        self._finish: asyncio.TimerHandle | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        samples = to_mono_int16(frame, self.sample_rate or frame.sample_rate)
        now = time.monotonic()
        if self._segment_start is None:
            self._segment_start = now
            self._segment_samples = 0
            self.tape.timing.reply(now)
            self.idle.clear()
            self.on_playback_started(created_at=time.time())
        # each frame plays after the ones before it, or now if the speaker had caught up
        at = max(now, self._segment_start + self._segment_samples / (self.sample_rate or 1))
        self.tape.add(at, samples)
        self._segment_samples += len(samples)

    def flush(self) -> None:
        super().flush()
        if self._segment_start is None:
            return
        ends_at = self._segment_start + self._segment_samples / (self.sample_rate or 1)
        delay = max(ends_at - time.monotonic(), 0.0)
        self._finish = asyncio.get_running_loop().call_later(delay, self._finished, False)

    def clear_buffer(self) -> None:
        if self._finish is not None:
            self._finish.cancel()
        if self._segment_start is not None:
            self._finished(True)

    def _finished(self, interrupted: bool) -> None:
        if self._segment_start is None:
            return
        played = min(time.monotonic() - self._segment_start, self._segment_samples / (self.sample_rate or 1))
        self._segment_start, self._finish = None, None
        self.on_playback_finished(playback_position=played, interrupted=interrupted)
        self.idle.set()
