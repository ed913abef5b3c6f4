"""Wiring for evaluation: the judge endpoint a profile names.

The judge is the profile's `judge` provider, or its first `llm`. A cloud or remote provider is just a URL, a model and
a key from the environment; `llama-cpp` starts the local model server for the time the judge is needed.

Example::

    >>> async with judge_endpoint(config) as endpoint:     # doctest: +SKIP
    ...     outcomes = await run_pending(store, lambda: fixed_endpoint(endpoint), ...)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from evaluation.judge import JudgeEndpoint
from pipeline.registry import ProviderError
from pipeline.settings import ProviderSpec
from sima.config import AppConfig

LOCAL_PROVIDER = "llama-cpp"
# The judge reads a whole transcript (≈4–6k tokens for 25 minutes) and writes ≈1k; the agent's 4k window is too small.
JUDGE_CONTEXT_TOKENS = 16384
# A local or self-hosted OpenAI-compatible server needs some key in the header, but checks none.
PLACEHOLDER_KEY = "not-needed"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def judge_spec(config: AppConfig) -> ProviderSpec:
    profile = config.active_profile
    return profile.judge or profile.llm[0]


def _setting(config: AppConfig) -> str:
    profile = config.active_profile
    return f"profiles.{config.profile}.{'judge' if profile.judge else 'llm[0]'}"


def remote_endpoint(spec: ProviderSpec, setting: str, env: Mapping[str, str]) -> JudgeEndpoint:
    """An endpoint for an OpenAI-compatible provider; the key comes from `api_key_env` (OPENAI_API_KEY if unset and
    no `base_url` is given); a `base_url` without `api_key_env` is a local server that needs no key."""
    if not spec.model:
        raise ProviderError(f"{setting}: the judge needs a model")
    if spec.base_url and not spec.api_key_env:
        return JudgeEndpoint(spec.base_url, PLACEHOLDER_KEY, spec.model)
    name = spec.api_key_env or DEFAULT_KEY_ENV
    key = env.get(name, "")
    if not key:
        raise ProviderError(f"{setting}: the judge ('{spec.provider}', {spec.model}) needs an API key: set ${name}")
    return JudgeEndpoint(spec.base_url, key, spec.model)


@asynccontextmanager
async def judge_endpoint(config: AppConfig, env: Mapping[str, str] | None = None) -> AsyncIterator[JudgeEndpoint]:
    """The profile's judge, ready to call; a local llama.cpp server runs only inside this context."""
    spec = judge_spec(config)
    if spec.provider != LOCAL_PROVIDER:
        yield remote_endpoint(spec, _setting(config), os.environ if env is None else env)
        return
    from pipeline.local.llama_server import LlamaServer  # imported only here: it loads llama.cpp tooling

    local = spec.model_copy(update={"options": {"n_ctx": JUDGE_CONTEXT_TOKENS, **spec.options}})
    async with LlamaServer.for_spec(local, config.paths.cache) as server:
        # llama-cpp-python's server takes a schema as {"type": "json_object", "schema": ...}, not "json_schema"
        yield JudgeEndpoint(server.base_url, "local", server.model_name, schema_style="json_object")
