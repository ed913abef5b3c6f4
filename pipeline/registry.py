"""Provider registry: config `provider:` keys to factories. Adding a provider is one `@register(...)` entry.

A chain of several specs becomes LiveKit's `FallbackAdapter` (first preferred). Every factory checks its own
requirements (keys, weights) when called, so a bad profile fails at start-up, before any candidate joins.

Example::

    >>> @register("stt", "my-stt")                        # doctest: +SKIP
    ... def _my_stt(spec: ProviderSpec, ctx: BuildContext) -> stt.STT:
    ...     return MySTT(model=spec.model)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.settings import ProviderSpec

Kind = Literal["stt", "llm", "tts", "vad"]
Factory = Callable[[ProviderSpec, "BuildContext"], Any]

_REGISTRY: dict[tuple[str, str], Factory] = {}
_KEY_ENV: dict[tuple[str, str], str] = {}  # the API key variable a provider needs unless its spec names another


class ProviderError(Exception):
    """A provider cannot be built; the message names the setting or environment variable to fix."""


@dataclass
class BuildContext:
    """What factories may need besides their spec."""

    cache_dir: Path = Path(".cache/sima")
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    setting: str = ""  # e.g. "profiles.local.llm[0]", for error messages
    services: list[Any] = field(default_factory=list)  # started helpers (e.g. a local LLM server) to stop later

    def api_key(self, spec: ProviderSpec, default_env: str) -> str:
        """The key for a cloud provider, or a clear error naming the variable to set."""
        name = spec.api_key_env or default_env
        value = self.env.get(name, "")
        if not value:
            raise ProviderError(f"{self.setting}: provider '{spec.provider}' needs an API key: set ${name}")
        return value


def register(kind: Kind, name: str, *, key_env: str | None = None) -> Callable[[Factory], Factory]:
    """Register a factory; `key_env` names the API key variable the provider cannot start without."""

    def deco(factory: Factory) -> Factory:
        _REGISTRY[(kind, name)] = factory
        if key_env:
            _KEY_ENV[(kind, name)] = key_env
        return factory

    return deco


def known(kind: Kind) -> list[str]:
    return sorted(name for k, name in _REGISTRY if k == kind)


def check_one(kind: Kind, spec: ProviderSpec, ctx: BuildContext) -> list[str]:
    """What stops `spec` from being built, found without building it: an unknown provider or a missing key.

    >>> check_one("llm", ProviderSpec(provider="nope"), BuildContext(env={}, setting="profiles.x.llm[0]"))
    ... # doctest: +ELLIPSIS
    ["profiles.x.llm[0]: unknown llm provider 'nope'; known: ..."]
    """
    if (kind, spec.provider) not in _REGISTRY:
        return [f"{ctx.setting}: unknown {kind} provider '{spec.provider}'; known: {', '.join(known(kind))}"]
    name = spec.api_key_env or _KEY_ENV.get((kind, spec.provider))
    if name and not ctx.env.get(name, ""):
        return [f"{ctx.setting}: provider '{spec.provider}' needs an API key: set ${name}"]
    return []


def build_one(kind: Kind, spec: ProviderSpec, ctx: BuildContext) -> Any:
    factory = _REGISTRY.get((kind, spec.provider))
    if factory is None:
        raise ProviderError(
            f"{ctx.setting}: unknown {kind} provider '{spec.provider}'; known: {', '.join(known(kind))}"
        )
    return factory(spec, ctx)
