"""Wiring for the models outside the voice pipeline: the judge, and the LLM that plays simulated candidates.

The judge is the profile's `judge` provider, or its first `llm`; the simulated candidate is its `candidate`, or the
judge. A cloud or remote provider is just a URL, a model and a key from the environment; `llama-cpp` starts a local
model server for the time the model is needed.

Example::

    >>> async with judge_endpoint(config) as endpoint:     # doctest: +SKIP
    ...     outcomes = await run_pending(store, lambda: fixed_endpoint(endpoint), ...)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from evaluation.judge import ModelEndpoint
from pipeline.registry import ProviderError
from pipeline.settings import ProviderSpec
from sima.config import AppConfig

LOCAL_PROVIDER = "llama-cpp"
# The judge reads a whole transcript (≈4–6k tokens for 25 minutes) and writes ≈1k; the agent's 4k window is too small.
JUDGE_CONTEXT_TOKENS = 16384
# A local or self-hosted OpenAI-compatible server needs some key in the header, but checks none.
PLACEHOLDER_KEY = "not-needed"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def judge_spec(config: AppConfig) -> tuple[ProviderSpec, str]:
    """The profile's judge (its `judge`, or its first `llm`) and the setting that names it."""
    profile, prefix = config.active_profile, f"profiles.{config.profile}"
    if profile.judge:
        return profile.judge, f"{prefix}.judge"
    return profile.llm[0], f"{prefix}.llm[0]"


def candidate_spec(config: AppConfig) -> tuple[ProviderSpec, str]:
    """The model that plays simulated candidates (its `candidate`, else the judge's) and the setting naming it."""
    profile = config.active_profile
    if profile.candidate:
        return profile.candidate, f"profiles.{config.profile}.candidate"
    return judge_spec(config)


def remote_endpoint(spec: ProviderSpec, setting: str, env: Mapping[str, str]) -> ModelEndpoint:
    """An endpoint for an OpenAI-compatible provider; the key comes from `api_key_env` (OPENAI_API_KEY if unset and
    no `base_url` is given); a `base_url` without `api_key_env` is a local server that needs no key."""
    if not spec.model:
        raise ProviderError(f"{setting}: '{spec.provider}' needs a model")
    if spec.base_url and not spec.api_key_env:
        return ModelEndpoint(spec.base_url, PLACEHOLDER_KEY, spec.model)
    name = spec.api_key_env or DEFAULT_KEY_ENV
    key = env.get(name, "")
    if not key:
        raise ProviderError(f"{setting}: '{spec.provider}' ({spec.model}) needs an API key: set ${name}")
    return ModelEndpoint(spec.base_url, key, spec.model)


@asynccontextmanager
async def model_endpoint(spec: ProviderSpec, setting: str, cache: Path, *, n_ctx: int | None = None,
                         env: Mapping[str, str] | None = None) -> AsyncIterator[ModelEndpoint]:
    """`spec` ready to call; a local llama.cpp server (with at least `n_ctx` tokens) runs only inside this context."""
    if spec.provider != LOCAL_PROVIDER:
        yield remote_endpoint(spec, setting, os.environ if env is None else env)
        return
    from pipeline.local.llama_server import LlamaServer  # imported only here: it loads llama.cpp tooling

    local = spec.model_copy(update={"options": {"n_ctx": n_ctx, **spec.options}}) if n_ctx else spec
    async with LlamaServer.for_spec(local, cache) as server:
        # llama-cpp-python's server takes a schema as {"type": "json_object", "schema": ...}, not "json_schema"
        yield ModelEndpoint(server.base_url, "local", server.model_name, schema_style="json_object")


def judge_endpoint(config: AppConfig, env: Mapping[str, str] | None = None
                   ) -> AbstractAsyncContextManager[ModelEndpoint]:
    """The profile's judge, ready to call."""
    spec, setting = judge_spec(config)
    return model_endpoint(spec, setting, config.paths.cache, n_ctx=JUDGE_CONTEXT_TOKENS, env=env)


def candidate_endpoint(config: AppConfig, env: Mapping[str, str] | None = None
                       ) -> AbstractAsyncContextManager[ModelEndpoint]:
    """The model that plays simulated candidates, ready to call."""
    spec, setting = candidate_spec(config)
    return model_endpoint(spec, setting, config.paths.cache, env=env)
