"""LiveKit's native Silero VAD run inline: the model and events of `livekit.agents.inference.VAD`, for a fraction of
its Python cost per stream.

`inference.VAD` hands every 32 ms window to a thread of its own (one wake-up of the event loop per window),
resamples through an FFI call per frame, and builds an event and two audio frames per window. With 50 sessions in
one worker process (two streams each) that was 62 % of the event loop's time (py-spy over bench/concurrency.py),
and the loop's lag became the candidates' latency. This stream calls the same native model on the loop (one call is
20-70 µs and releases the GIL, less than a thread hand-off costs), resamples with numpy, and sends at most one
INFERENCE_DONE per pushed frame (its last window's probability) instead of one per window. Each INFERENCE_DONE
carries the audio pushed since the one before, so a listener that collects it (pipeline/early_stt.py) gets every
sample once, whatever the frame size: a 20 ms frame completes no 32 ms window about one time in three.
START_OF_SPEECH and END_OF_SPEECH come at the same windows, with the same fields and speech audio, as LiveKit's
(tests/pipeline/test_inline_vad.py plays the same speech through both). Figures: bench/vad_cpu.py.

Example::

    >>> vad = InlineSileroVAD(min_silence_duration=0.5)
    >>> (vad.model, vad.provider, vad.min_silence_duration)
    ('silero', 'livekit-local-inference', 0.5)
"""

from __future__ import annotations

import dataclasses
import logging
import time
import weakref
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from livekit.agents import vad
from livekit.local_inference import VAD as NativeModel
from livekit.local_inference import VAD_WINDOW_SAMPLES

log = logging.getLogger(__name__)

MODEL_RATE = 16_000
WINDOW_SECONDS = VAD_WINDOW_SAMPLES / MODEL_RATE


@dataclass
class VADOptions:
    """The options of LiveKit's `inference.VAD`, with its defaults."""

    min_speech_duration: float = 0.05
    min_silence_duration: float = 0.25
    prefix_padding_duration: float = 0.5
    max_buffered_speech: float = 60.0
    activation_threshold: float = 0.5
    deactivation_threshold: float | None = None  # None: activation_threshold - 0.15, as LiveKit's

    @property
    def release_threshold(self) -> float:
        if self.deactivation_threshold is not None:
            return self.deactivation_threshold
        return max(self.activation_threshold - 0.15, 0.01)


class InlineSileroVAD(vad.VAD):
    """Silero (LiveKit's native build, weights in the `livekit-local-inference` wheel, loaded once per process);
    every stream keeps a model state of its own."""

    def __init__(self, **options: float | None) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=0.05))
        self.options = VADOptions(**options)  # type: ignore[arg-type]
        self._streams: weakref.WeakSet[InlineVADStream] = weakref.WeakSet()

    @property
    def model(self) -> str:
        return "silero"

    @property
    def provider(self) -> str:
        return "livekit-local-inference"

    @property
    def min_silence_duration(self) -> float:
        return self.options.min_silence_duration

    def stream(self) -> InlineVADStream:
        stream = InlineVADStream(self, dataclasses.replace(self.options))
        self._streams.add(stream)
        return stream

    def update_options(self, **changes: float | None) -> None:
        self.options = dataclasses.replace(self.options, **changes)  # type: ignore[arg-type]
        for stream in self._streams:
            stream.options = dataclasses.replace(stream.options, **changes)  # type: ignore[arg-type]


class Resampler:
    """Linear interpolation to the model's 16 kHz, continuous across frames. A VAD needs no better (LiveKit's uses
    its QUICK resampler); rooms deliver 16 kHz to SIMA's sessions, so this runs for other sources only.

    >>> r = Resampler(24_000)
    >>> sum(len(r.push(np.zeros(1200, dtype=np.int16))) for _ in range(10))  # 0.5 s at 24 kHz
    8000
    """

    def __init__(self, rate: int) -> None:
        self.step = rate / MODEL_RATE
        self._next = 0.0  # where the next output sample falls, in input samples from the start of the next frame
        self._last = 0.0  # the previous frame's last sample, at position -1

    def push(self, samples: np.ndarray) -> np.ndarray:
        if self.step == 1.0:
            return samples
        positions = np.arange(self._next, len(samples) - 1e-9, self.step)
        known = np.concatenate(([self._last], samples.astype(np.float32)))
        out = np.interp(positions, np.arange(-1, len(samples)), known)
        self._next = (positions[-1] + self.step if len(positions) else self._next) - len(samples)
        self._last = float(samples[-1]) if len(samples) else self._last
        return out.astype(np.int16)


class InlineVADStream(vad.VADStream):
    """One candidate's audio: the model's state, the speech heard so far (at the input rate) and the counters of
    LiveKit's stream."""

    def __init__(self, parent: InlineSileroVAD, options: VADOptions) -> None:
        super().__init__(parent)
        self.options = options
        self._model = NativeModel()
        self._rate = 0  # the input's, from its first frame
        self._reset()

    def _reset(self) -> None:
        self._model.reset()
        self._resampler = Resampler(self._rate) if self._rate else None
        self._pending = np.zeros(0, dtype=np.int16)  # 16 kHz samples not yet in a window
        self._speech = bytearray()  # input-rate int16: the prefix padding, then the speech while speaking
        self._buffer_full = False
        self._speaking = False
        self._speech_s = self._silence_s = 0.0  # published durations
        self._above_s = self._below_s = 0.0  # raw time above / below the thresholds
        self._sample = 0
        self._timestamp = 0.0
        self._before = (False, 0.0, 0.0, 0.0, 0.0)  # the counters before the last window's thresholds
        self._changed: vad.VADEventType | None = None
        self._unsent: list[rtc.AudioFrame] = []  # frames pushed since the last INFERENCE_DONE

    async def _main_task(self) -> None:
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                self._reset()
            elif isinstance(item, rtc.AudioFrame):
                self._hear(item)

    def _hear(self, frame: rtc.AudioFrame) -> None:
        if not self._rate:
            self._rate = frame.sample_rate
            self._resampler = Resampler(self._rate)
        elif frame.sample_rate != self._rate:
            log.error("VAD frame at %d Hz after frames at %d Hz: ignored", frame.sample_rate, self._rate)
            return
        samples = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        self._keep(samples)
        self._unsent.append(frame)
        assert self._resampler is not None
        self._pending = np.concatenate((self._pending, self._resampler.push(samples)))
        windows, spent, probability = 0, 0.0, 0.0
        while len(self._pending) >= VAD_WINDOW_SAMPLES:
            window, self._pending = self._pending[:VAD_WINDOW_SAMPLES], self._pending[VAD_WINDOW_SAMPLES:]
            started = time.perf_counter()
            probability = self._model.predict(window)
            spent += time.perf_counter() - started
            windows += 1
            if self._step(probability) is not None:
                # LiveKit sends a window's INFERENCE_DONE before the change it causes
                self._send_inference(probability, spent)
                windows, spent = 0, 0.0
                self._send_change()
        if windows:
            self._send_inference(probability, spent)

    def _keep(self, samples: np.ndarray) -> None:
        """Add the frame to the speech audio; outside speech only the last prefix_padding of it is kept."""
        limit = int((self.options.max_buffered_speech + self.options.prefix_padding_duration) * self._rate) * 2
        room = limit - len(self._speech)
        data = samples.tobytes()
        if len(data) > room and not self._buffer_full:
            self._buffer_full = True
            log.warning("max_buffered_speech reached, ignoring further data for the current speech input")
        self._speech += data[:max(room, 0)]
        if not self._speaking:
            self._trim()

    def _trim(self) -> None:
        padding = int(self.options.prefix_padding_duration * self._rate) * 2
        if len(self._speech) > padding:
            del self._speech[:len(self._speech) - padding]
        self._buffer_full = False

    def _step(self, probability: float) -> vad.VADEventType | None:
        """LiveKit's hysteresis for one window; the change it makes, if any (kept in `_changed`)."""
        opts = self.options
        self._sample += VAD_WINDOW_SAMPLES
        self._timestamp += WINDOW_SECONDS
        if self._speaking:
            self._speech_s += WINDOW_SECONDS
        else:
            self._silence_s += WINDOW_SECONDS
        self._before = (self._speaking, self._speech_s, self._silence_s, self._above_s, self._below_s)
        self._changed = None
        if probability >= opts.activation_threshold or (self._speaking and probability > opts.release_threshold):
            self._above_s += WINDOW_SECONDS
            self._below_s = 0.0
            if not self._speaking and self._above_s >= opts.min_speech_duration:
                self._speaking = True
                self._silence_s, self._speech_s = 0.0, self._above_s
                self._changed = vad.VADEventType.START_OF_SPEECH
        else:
            self._below_s += WINDOW_SECONDS
            self._above_s = 0.0
            if self._speaking and self._below_s >= opts.min_silence_duration:
                self._speaking = False
                self._silence_s = self._below_s
                self._changed = vad.VADEventType.END_OF_SPEECH
        return self._changed

    def _send_inference(self, probability: float, spent: float) -> None:
        # the last window's counters before its thresholds moved them, as LiveKit's INFERENCE_DONE reports them
        speaking, speech_s, silence_s, above_s, below_s = self._before
        frames, self._unsent = self._unsent, []
        self._event_ch.send_nowait(vad.VADEvent(
            type=vad.VADEventType.INFERENCE_DONE, samples_index=self._sample, timestamp=self._timestamp,
            silence_duration=silence_s, speech_duration=speech_s, probability=probability,
            inference_duration=spent, frames=frames, speaking=speaking,
            raw_accumulated_silence=below_s, raw_accumulated_speech=above_s))

    def _send_change(self) -> None:
        kind = self._changed
        speech = rtc.AudioFrame(data=bytes(self._speech), sample_rate=self._rate, num_channels=1,
                                samples_per_channel=len(self._speech) // 2)
        if kind is vad.VADEventType.START_OF_SPEECH:
            self._event_ch.send_nowait(vad.VADEvent(
                type=kind, samples_index=self._sample, timestamp=self._timestamp, silence_duration=0.0,
                speech_duration=self._speech_s, frames=[speech], speaking=True))
            return
        self._event_ch.send_nowait(vad.VADEvent(
            type=vad.VADEventType.END_OF_SPEECH, samples_index=self._sample, timestamp=self._timestamp,
            silence_duration=self._silence_s, speech_duration=max(0.0, self._speech_s - self._below_s),
            frames=[speech], speaking=False))
        self._speech_s = 0.0
        self._trim()
