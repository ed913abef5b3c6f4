"""Provider profiles: the `profiles:` section of config.yaml. Swapping STT/LLM/TTS is a change here only.

Example (config.yaml)::

    profile: local
    profiles:
      openai:
        stt: {provider: openai, model: whisper-1}
        llm: {provider: openai, model: gpt-4o}
        tts: {provider: openai, model: tts-1, voice: coral}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from engine.settings import Strict

Phrasing = Literal["llm", "verbatim"]


class ProviderSpec(Strict):
    provider: str = Field(min_length=1, description="registry key, e.g. openai, deepgram, local-whisper, piper")
    model: str | None = None
    voice: str | None = None
    base_url: str | None = None
    api_key_env: str | None = Field(default=None, description="environment variable holding the API key")
    language: str | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="provider-specific extras")


ProviderChain = list[ProviderSpec]


class FallbackSettings(Strict):
    """How a chain of providers fails over (LiveKit's FallbackAdapter), the same for STT, LLM and TTS."""

    attempt_timeout: float = Field(
        default=10.0, gt=0,
        description="seconds one provider of a chain gets per attempt (llama-cpp's options.timeout can raise it)")
    max_retry: int = Field(default=0, ge=0, le=5, description="retries on the same provider before the next")
    retry_interval: float = Field(default=0.5, ge=0, description="seconds between retries")


class EndpointingSettings(Strict):
    """When a candidate's turn is over: silence after speech, in seconds. With `turn_detection: vad` every turn
    ends after `min_delay`; with `turn-detector` or `language-model`, after `min_delay` when the model hears (or
    reads) a finished turn and after `max_delay` when the candidate is mid-thought."""

    min_delay: float = Field(default=0.5, ge=0, le=10)
    max_delay: float = Field(default=3.0, ge=0, le=30)


class TurnDetectorSettings(Strict):
    """LiveKit's audio end-of-turn model (`inference.TurnDetector`, v1-mini, in-process; `turn_detection:
    turn-detector`)."""

    unlikely_threshold: float | None = Field(
        default=None, gt=0, lt=1,
        description="end-of-turn probability below which the candidate is heard as mid-thought (waits max_delay); "
                    "default: LiveKit's calibrated value per language (0.36 for English)")


class TurnModelSettings(Strict):
    """The language model that reads the candidate's words for the end of their turn (`turn_detection:
    language-model`, pipeline/turn_lm.py): a `llama-cpp` GGUF model, run in the worker process."""

    model: str = Field(default="qwen2.5-coder-0.5b", description="a llama-cpp model name (pipeline/local/weights.py)")
    unlikely_threshold: float = Field(
        default=0.003, gt=0, lt=1,
        description="probability of the answer ending after the words so far below which the candidate is heard as "
                    "mid-thought (waits endpointing.max_delay)")
    n_threads: int | None = Field(default=None, ge=1, le=64, description="default: every core")


class EarlyTranscriptionSettings(Strict):
    """Non-streaming STTs (Whisper): transcribe an answer in pieces while it is spoken, cut at short pauses, so at the
    end of the turn only the last piece is left (pipeline/early_stt.py). Off: one request per utterance."""

    enabled: bool = True
    pause_seconds: float = Field(default=0.2, ge=0.05, le=2, description="a pause this long may end a piece")
    min_piece_seconds: float = Field(default=3.0, ge=0.5, le=60, description="no piece shorter than this")


class ProfileSettings(Strict):
    """One named provider stack. A list of providers becomes a FallbackAdapter, first one preferred."""

    stt: ProviderChain
    llm: ProviderChain
    tts: ProviderChain
    vad: ProviderSpec = Field(default_factory=lambda: ProviderSpec(provider="silero-inline"))
    turn_detection: Literal["vad", "stt", "turn-detector", "language-model"] = Field(
        default="vad",
        description="vad: a turn ends after a fixed silence; stt: when the STT says so; turn-detector: LiveKit's "
                    "audio end-of-turn model decides how long the silence must be (see endpointing); language-model: "
                    "the words do, read by the text cues and then by a small language model (turn_model)")
    turn_detector: TurnDetectorSettings = Field(default_factory=TurnDetectorSettings)
    turn_model: TurnModelSettings = Field(default_factory=TurnModelSettings)
    text_cues: bool = Field(
        default=False,
        description="with turn_detection vad or turn-detector: a transcript ending on a word no sentence ends on "
                    "(and, because, the, to, was, um...: engine/turn_words.yaml) waits endpointing.max_delay, "
                    "whatever the pause sounds like; any other ending is left to the detector (language-model "
                    "always reads the words so)")
    endpointing: EndpointingSettings = Field(default_factory=EndpointingSettings)
    early_transcription: EarlyTranscriptionSettings = Field(default_factory=EarlyTranscriptionSettings)
    fallback: FallbackSettings = Field(default_factory=FallbackSettings)
    guided: bool = Field(
        default=False,
        description="the code picks every next step and the LLM only phrases it, with no tools (small local models)",
    )
    phrasing: Phrasing = Field(
        default="llm",
        description="llm: the LLM words every turn; verbatim (guided only): the code speaks the templates' and banks' "
                    "exact words, after at most a short acknowledgement from the LLM (models too small to follow "
                    "instructions)",
    )
    judge: ProviderSpec | None = Field(default=None, description="LLM for evaluation; default: first llm")
    judge_samples: int = Field(default=1, ge=1, le=10)
    candidate: ProviderSpec | None = Field(
        default=None, description="LLM that plays simulated candidates (`sima simulate`); default: the judge's",
    )

    @field_validator("stt", "llm", "tts", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @field_validator("stt", "llm", "tts")
    @classmethod
    def _not_empty(cls, v: ProviderChain) -> ProviderChain:
        if not v:
            raise ValueError("needs at least one provider")
        return v

    @model_validator(mode="after")
    def _text_cues_need_endpointing(self) -> ProfileSettings:
        # with `stt` the STT alone ends the turn: there is no silence for the transcript to lengthen
        if self.text_cues and self.turn_detection == "stt":
            raise ValueError("text_cues needs turn_detection: vad, turn-detector or language-model")
        return self

    @model_validator(mode="after")
    def _verbatim_is_guided(self) -> ProfileSettings:
        # with tools the LLM decides each step, so there is nothing for the code to say word for word
        if self.phrasing == "verbatim" and not self.guided:
            raise ValueError("phrasing: verbatim needs guided: true")
        return self
