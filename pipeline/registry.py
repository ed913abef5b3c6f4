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


def register(kind: Kind, name: str) -> Callable[[Factory], Factory]:
    def deco(factory: Factory) -> Factory:
        _REGISTRY[(kind, name)] = factory
        return factory

    return deco


def known(kind: Kind) -> list[str]:
    return sorted(name for k, name in _REGISTRY if k == kind)


def build_one(kind: Kind, spec: ProviderSpec, ctx: BuildContext) -> Any:
    factory = _REGISTRY.get((kind, spec.provider))
    if factory is None:
        raise ProviderError(
            f"{ctx.setting}: unknown {kind} provider '{spec.provider}'; known: {', '.join(known(kind))}"
        )
    return factory(spec, ctx)
