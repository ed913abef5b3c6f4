"""Cloud and OpenAI-compatible providers, and the whole STT/LLM/TTS/VAD stack of a profile built from config.

Each provider is one registry entry. `openai` talks to OpenAI (an API key is required); `openai-compatible` talks to
any server speaking the same protocol at `base_url` (Ollama, vLLM, Groq, llama.cpp, a local Whisper server), with a
key only when `api_key_env` names one. Constructing a plugin makes no network call.

A chain of more than one spec becomes LiveKit's FallbackAdapter, first one preferred. Every missing key and unknown
provider of a profile is reported at once, as one :class:`ProviderError`, before anything is built.

Example::

    >>> profile = ProfileSettings.model_validate({
    ...     "stt": {"provider": "openai", "model": "whisper-1"},
    ...     "llm": [{"provider": "openai", "model": "gpt-4o"},
    ...             {"provider": "openai-compatible", "model": "llama3.1", "base_url": "http://127.0.0.1:11434/v1"}],
    ...     "tts": {"provider": "openai", "model": "tts-1", "voice": "coral"}})
    >>> stack = build_stack(profile, BuildContext(env={"OPENAI_API_KEY": "sk-"}), "profiles.openai")  # doctest: +SKIP
    >>> type(stack.llm).__name__                                                               # doctest: +SKIP
    'FallbackAdapter'
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass
from typing import Any

from livekit.agents import inference, llm, stt, tts, vad
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.local_inference import init_eot
from livekit.plugins import deepgram, openai, silero

from pipeline.early_stt import EarlyTranscription
from pipeline.inline_vad import InlineSileroVAD
from pipeline.local.weights import ensure_gguf
from pipeline.registry import BuildContext, Kind, ProviderError, build_one, check_one, register
from pipeline.settings import FallbackSettings, ProfileSettings, ProviderSpec
from pipeline.turn_lm import CompletionModel, LanguageTurnDetector
from pipeline.turn_text import TextCuedTurnDetector

log = logging.getLogger(__name__)

OPENAI_KEY = "OPENAI_API_KEY"
DEEPGRAM_KEY = "DEEPGRAM_API_KEY"
# OpenAI-compatible servers that need no key still get one: the plugins refuse to start without it.
PLACEHOLDER_KEY = "not-needed"
DEFAULT_OPENAI_VOICE = "coral"  # the seed's voice


@dataclass
class ProviderStack:
    """What an AgentSession is built from; `stt`, `tts` and `vad` are None for a text-only session, `turn_detector`
    unless the profile's `turn_detection` is `turn-detector` or `language-model`."""

    llm: llm.LLM
    stt: stt.STT | None = None
    tts: tts.TTS | None = None
    vad: vad.VAD | None = None
    turn_detector: inference.TurnDetector | LanguageTurnDetector | None = None

    def for_session(self) -> ProviderStack:
        """This stack for one more session: the same providers, but a VAD and a turn detector object of its own.

        LiveKit emits every VAD stream's (and turn detector stream's) metrics on its parent object, to the listeners
        of every session using that object, so sessions sharing one cost O(N²) callbacks a second (measured at 25
        sessions in one process: P95 turn latency 1.47 s shared, 1.30 s each with its own, against 1.22 s for a
        single session). The objects are cheap: the models stay loaded once per process (the ONNX session of the
        Silero plugin; the native models of livekit-local-inference are process singletons) and each stream keeps
        its own state.

        >>> stack = ProviderStack(llm=openai.LLM(api_key="k"), vad=inference.VAD())   # doctest: +SKIP
        >>> stack.for_session().vad is stack.vad                                         # doctest: +SKIP
        False
        """
        detector = self.turn_detector
        if isinstance(detector, LanguageTurnDetector):
            detector = detector.for_session()
        elif detector is not None:
            detector = _turn_detector(detector._opts.thresholds.overrides,
                                      text_cues=isinstance(detector, TextCuedTurnDetector))
        return dataclasses.replace(self, vad=_own_vad(self.vad), turn_detector=detector)


def _own_vad(shared: vad.VAD | None, *, min_silence: float = 0.0) -> vad.VAD | None:
    """Another VAD object over the same loaded model and options, hearing a pause only once it has lasted
    `min_silence` seconds (or its own minimum, if longer); a VAD of another kind is returned as it is."""
    def longer(opts: Any) -> Any:  # the options of any of the three, with the pause they end speech at
        return dataclasses.replace(opts, min_silence_duration=max(opts.min_silence_duration, min_silence))

    if isinstance(shared, silero.VAD):
        # the plugin has no public way to share a loaded model between VAD objects; its constructor takes both
        return silero.VAD(session=shared._onnx_session, opts=longer(shared._opts))
    if isinstance(shared, inference.VAD):
        # its options dataclass has the constructor's field names; the executor (if any) is shared too
        return inference.VAD(**dataclasses.asdict(longer(shared._opts)), executor=shared._executor)
    if isinstance(shared, InlineSileroVAD):
        return InlineSileroVAD(**dataclasses.asdict(longer(shared.options)))
    return shared


def turn_vad(built: vad.VAD | None, profile: ProfileSettings) -> vad.VAD | None:
    """The VAD of a profile's sessions (`built` from its `vad` entry): speech ends only after the profile's shortest
    end-of-turn silence (`endpointing.min_delay`), counted in the audio.

    LiveKit waits for that silence on the wall clock from the VAD's end of speech. On a busy machine audio frames
    reach the VAD late, so a short pause (a comma: 0.2-0.4 s in Piper's voice) plus a stall of the event loop
    looked like the end of the answer, and the candidate was cut off mid-sentence. A VAD that ends speech only after
    `min_delay` of silence in the audio leaves no wall-clock wait: no stall adds to a pause. Text cues and the turn
    detector still lengthen the wait to `max_delay`. The STT's utterances end at the same moments (one VAD setting
    for both), so each utterance's final transcript follows its end of speech; early transcription sends the last
    words to the STT at the first short pause, while this silence is still being waited for. With
    `turn_detection: stt` the STT ends turns and the VAD is left as it is.

    >>> from pipeline.settings import ProfileSettings
    >>> profile = ProfileSettings.model_validate({"stt": {"provider": "x"}, "llm": {"provider": "x"},
    ...                                           "tts": {"provider": "x"}, "endpointing": {"min_delay": 0.5}})
    >>> turn_vad(InlineSileroVAD(min_silence_duration=0.25), profile).min_silence_duration
    0.5
    """
    if profile.turn_detection == "stt":
        return built
    return _own_vad(built, min_silence=profile.endpointing.min_delay)


def _turn_detector(unlikely_threshold: NotGivenOr[float | dict[str, float]], *,
                   text_cues: bool = False) -> inference.TurnDetector:
    if text_cues:  # the same model, overruled by a transcript that ends mid-thought (pipeline/turn_text.py)
        return TextCuedTurnDetector(unlikely_threshold=unlikely_threshold)
    # v1-mini runs in-process (version "v1" is LiveKit's hosted model, which SIMA never calls)
    return inference.TurnDetector(version="v1-mini", unlikely_threshold=unlikely_threshold)


def _options(spec: ProviderSpec, ctx: BuildContext, build: Any, **kwargs: Any) -> Any:
    """Call a plugin constructor with the spec's extra `options`; a wrong option names its setting."""
    try:
        return build(**kwargs, **spec.options)
    except TypeError as exc:
        raise ProviderError(f"{ctx.setting}.options: {exc}") from exc
    except ValueError as exc:
        raise ProviderError(f"{ctx.setting}: {exc}") from exc


def _compatible(spec: ProviderSpec, ctx: BuildContext) -> tuple[str, str]:
    """Base URL and key of an OpenAI-compatible server."""
    if not spec.base_url:
        raise ProviderError(f"{ctx.setting}.base_url: provider 'openai-compatible' needs the server's base_url")
    key = ctx.api_key(spec, spec.api_key_env) if spec.api_key_env else PLACEHOLDER_KEY
    return spec.base_url, key


# ----- STT ---------------------------------------------------------------------------------------------------


@register("stt", "openai", key_env=OPENAI_KEY)
def _openai_stt(spec: ProviderSpec, ctx: BuildContext) -> stt.STT:
    return _options(spec, ctx, openai.STT, model=spec.model or "whisper-1", language=spec.language or "en",
                    base_url=spec.base_url or NOT_GIVEN, api_key=ctx.api_key(spec, OPENAI_KEY))


@register("stt", "openai-compatible")
def _compatible_stt(spec: ProviderSpec, ctx: BuildContext) -> stt.STT:
    base_url, key = _compatible(spec, ctx)
    return _options(spec, ctx, openai.STT, model=spec.model or "whisper-1", language=spec.language or "en",
                    base_url=base_url, api_key=key)


@register("stt", "deepgram", key_env=DEEPGRAM_KEY)
def _deepgram_stt(spec: ProviderSpec, ctx: BuildContext) -> stt.STT:
    extra = {"base_url": spec.base_url} if spec.base_url else {}
    return _options(spec, ctx, deepgram.STT, model=spec.model or "nova-3", language=spec.language or "en-US",
                    api_key=ctx.api_key(spec, DEEPGRAM_KEY), **extra)


# ----- LLM ---------------------------------------------------------------------------------------------------


@register("llm", "openai", key_env=OPENAI_KEY)
def _openai_llm(spec: ProviderSpec, ctx: BuildContext) -> llm.LLM:
    return _options(spec, ctx, openai.LLM, model=spec.model or "gpt-4o", base_url=spec.base_url or NOT_GIVEN,
                    api_key=ctx.api_key(spec, OPENAI_KEY))


@register("llm", "openai-compatible")
def _compatible_llm(spec: ProviderSpec, ctx: BuildContext) -> llm.LLM:
    if not spec.model:
        raise ProviderError(f"{ctx.setting}.model: provider 'openai-compatible' needs the model name the server uses")
    base_url, key = _compatible(spec, ctx)
    return _options(spec, ctx, openai.LLM, model=spec.model, base_url=base_url, api_key=key)


# ----- TTS ---------------------------------------------------------------------------------------------------


@register("tts", "openai", key_env=OPENAI_KEY)
def _openai_tts(spec: ProviderSpec, ctx: BuildContext) -> tts.TTS:
    return _options(spec, ctx, openai.TTS, model=spec.model or "tts-1", voice=spec.voice or DEFAULT_OPENAI_VOICE,
                    base_url=spec.base_url or NOT_GIVEN, api_key=ctx.api_key(spec, OPENAI_KEY))


@register("tts", "openai-compatible")
def _compatible_tts(spec: ProviderSpec, ctx: BuildContext) -> tts.TTS:
    base_url, key = _compatible(spec, ctx)
    return _options(spec, ctx, openai.TTS, model=spec.model or "tts-1", voice=spec.voice or DEFAULT_OPENAI_VOICE,
                    base_url=base_url, api_key=key)


@register("tts", "deepgram", key_env=DEEPGRAM_KEY)
def _deepgram_tts(spec: ProviderSpec, ctx: BuildContext) -> tts.TTS:
    extra = {"base_url": spec.base_url} if spec.base_url else {}
    # Deepgram names voices as models (aura-2-thalia-en): a `voice` setting wins
    return _options(spec, ctx, deepgram.TTS, model=spec.voice or spec.model or "aura-2-thalia-en",
                    api_key=ctx.api_key(spec, DEEPGRAM_KEY), **extra)


# ----- VAD ---------------------------------------------------------------------------------------------------


@register("vad", "silero")
def _silero_vad(spec: ProviderSpec, ctx: BuildContext) -> vad.VAD:
    # the ONNX model ships inside the plugin; loading takes well under a second
    return _options(spec, ctx, silero.VAD.load)


@register("vad", "silero-native")
def _native_vad(spec: ProviderSpec, ctx: BuildContext) -> vad.VAD:
    # LiveKit's native Silero (livekit-local-inference): the weights are in the wheel and loaded once per process;
    # each stream has its own model state (see bench/vad_cpu.py for its cost against the ONNX plugin's)
    return _options(spec, ctx, inference.VAD)


@register("vad", "silero-inline")
def _inline_vad(spec: ProviderSpec, ctx: BuildContext) -> vad.VAD:
    # the same native model, called on the event loop with one event per frame: the cheapest per stream
    # (pipeline/inline_vad.py; bench/vad_cpu.py measures all three)
    return _options(spec, ctx, InlineSileroVAD)


# ----- stacks ------------------------------------------------------------------------------------------------


def _load_local_providers() -> str | None:
    """Register the local providers (pipeline/local registers them on import); None, or why they are missing."""
    try:
        importlib.import_module("pipeline.local")
    except ImportError as exc:
        log.debug("local providers unavailable: %s", exc)
        return f"local providers unavailable ({exc}); install the 'local' extra"
    return None


def _chains(profile: ProfileSettings, audio: bool) -> list[tuple[Kind, list[ProviderSpec]]]:
    chains: list[tuple[Kind, list[ProviderSpec]]] = [("llm", profile.llm)]
    if audio:
        chains = [("stt", profile.stt), *chains, ("tts", profile.tts), ("vad", [profile.vad])]
    return chains


def _setting(ctx: BuildContext, prefix: str, kind: Kind, index: int | None) -> BuildContext:
    # the services list is shared, so helpers started by any factory are stopped with the stack
    where = f"{prefix}.{kind}" + (f"[{index}]" if index is not None else "")
    return dataclasses.replace(ctx, setting=where)


def check_profile(profile: ProfileSettings, ctx: BuildContext, setting_prefix: str, *, audio: bool = True
                  ) -> list[str]:
    """Every unknown provider and missing key of a profile, each naming its setting or variable."""
    local_problem = _load_local_providers()
    problems = []
    for kind, chain in _chains(profile, audio):
        for i, spec in enumerate(chain):
            problems += check_one(kind, spec, _setting(ctx, setting_prefix, kind, i if kind != "vad" else None))
    if local_problem and any("unknown" in p for p in problems):
        problems.append(f"{setting_prefix}: {local_problem}")
    return problems


def build_stack(
    profile: ProfileSettings,
    ctx: BuildContext,
    setting_prefix: str,
    *,
    audio: bool = True,
    vad_instance: vad.VAD | None = None,
) -> ProviderStack:
    """Build the providers of `profile`; `audio=False` builds the LLM only (typed-text sessions).

    `vad_instance`, if given, is used instead of building the profile's VAD (no caller passes one: the worker
    prewarms one stack per process and gives each session a VAD object of its own, see `ProviderStack.for_session`).
    Raises one :class:`ProviderError` listing every problem, before any candidate joins.
    """
    problems = check_profile(profile, ctx, setting_prefix, audio=audio)
    if problems:
        raise ProviderError("\n".join(problems))
    built: dict[Kind, list[Any]] = {}
    for kind, chain in _chains(profile, audio):
        if kind == "vad" and vad_instance is not None:
            built["vad"] = [vad_instance]
            continue
        for i, spec in enumerate(chain):
            try:
                built.setdefault(kind, []).append(
                    build_one(kind, spec, _setting(ctx, setting_prefix, kind, i if kind != "vad" else None)))
            except ProviderError as exc:
                problems.append(str(exc))
    if problems:
        raise ProviderError("\n".join(problems))
    fb = profile.fallback
    stack = ProviderStack(llm=_llm_chain(built["llm"], fb))
    if audio:
        stack.vad = turn_vad(built["vad"][0], profile)
        stack.stt = _stt_chain(built["stt"], profile, stack.vad)
        stack.tts = _tts_chain(built["tts"], fb)
        if profile.turn_detection == "turn-detector":
            init_eot()  # load the model (~108 MB) now, not in the first candidate's first turn
            threshold = profile.turn_detector.unlikely_threshold
            stack.turn_detector = _turn_detector(NOT_GIVEN if threshold is None else threshold,
                                                 text_cues=profile.text_cues)
        elif profile.turn_detection == "language-model":
            stack.turn_detector = language_turn_detector(profile, ctx)
    return stack


def language_turn_detector(profile: ProfileSettings, ctx: BuildContext) -> LanguageTurnDetector:
    """The words-reading turn detector of `turn_detection: language-model`, its model loaded now (once per process)."""
    settings = profile.turn_model
    try:
        path = ensure_gguf(settings.model, ctx.cache_dir)
    except ProviderError as exc:
        raise ProviderError(f"turn_model: {exc}") from None
    return LanguageTurnDetector(CompletionModel.load(path, settings.n_threads),
                                unlikely_threshold=settings.unlikely_threshold)


async def stop_services(ctx: BuildContext) -> None:
    """Stop the helpers factories started (a local LLM server), newest first."""
    while ctx.services:
        service = ctx.services.pop()
        try:
            await service.aclose()
        except Exception:
            log.exception("could not stop %r", service)


def _llm_chain(items: list[llm.LLM], fb: FallbackSettings) -> llm.LLM:
    if len(items) == 1:
        return items[0]
    return llm.FallbackAdapter(items, attempt_timeout=fb.attempt_timeout, max_retry_per_llm=fb.max_retry,
                               retry_interval=fb.retry_interval)


def _stt_chain(items: list[stt.STT], profile: ProfileSettings, vad_instance: vad.VAD | None) -> stt.STT:
    fb = profile.fallback
    chain = items[0] if len(items) == 1 else stt.FallbackAdapter(
        items, vad=vad_instance, attempt_timeout=fb.attempt_timeout, max_retry_per_stt=fb.max_retry,
        retry_interval=fb.retry_interval)
    if vad_instance is None or any(s.capabilities.streaming for s in items):
        return chain
    # Whisper-style STTs: the VAD cuts the audio once and every STT of a chain tries the same piece, so a failover
    # loses nothing (the streaming failover restarts on the next provider and drops the utterance in flight)
    early = profile.early_transcription
    if early.enabled:
        return EarlyTranscription(stt=chain, vad=vad_instance, pause=early.pause_seconds,
                                  min_piece=early.min_piece_seconds)
    return stt.StreamAdapter(stt=chain, vad=vad_instance)


def _tts_chain(items: list[tts.TTS], fb: FallbackSettings) -> tts.TTS:
    if len(items) == 1:
        return items[0]
    # different sample rates are fine: the adapter resamples to the highest one
    return tts.FallbackAdapter(items, max_retry_per_tts=fb.max_retry)
