"""Typed config.yaml: every layer's settings in one file, overridable by `SIMA_...` environment variables.

Environment overrides use `__` between levels and YAML for values::

    SIMA_PROFILE=openai
    SIMA_STORAGE__URL=postgresql+psycopg://sima@db/sima
    SIMA_INTERVIEW__FOLLOW_UP_CAP=1

Every problem is reported as `file:line: field: message`, all at once, and nothing starts.

Example::

    >>> cfg = load_config(Path("config.yaml"), env={})  # doctest: +SKIP
    >>> cfg.profile, cfg.active_profile.llm[0].provider  # doctest: +SKIP
    ('local', 'llama-cpp')
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator

from engine.settings import InterviewSettings, Strict
from engine.yamlsrc import LocatedDoc, SourceError, SourceProblem, load_located_file, problems_from_validation
from evaluation.settings import EvaluationSettings
from pipeline.resume import ResumeSettings
from pipeline.settings import ProfileSettings
from sima.ops.settings import EvaluationWorkerSettings, MetricsSettings, WebhookSettings
from storage.settings import StorageSettings
from web.settings import WebSettings

ENV_PREFIX = "SIMA_"
DEFAULT_CONFIG = Path("config.yaml")


class Paths(Strict):
    question_banks: Path = Path("question_banks")
    prompt_templates: Path = Path("prompt_templates")
    personas: Path = Field(default=Path("personas"), description="simulated candidates for `sima simulate`")
    runs: Path = Field(default=Path("runs"), description="per-interview journals, WAVs and simulation output")
    cache: Path = Field(default=Path(".cache/sima"), description="joined model weights and other caches")


class AppConfig(Strict):
    profiles: dict[str, ProfileSettings]
    profile: str = "local"  # after `profiles`, so its validator can see them
    interview: InterviewSettings = Field(default_factory=InterviewSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    paths: Paths = Field(default_factory=Paths)
    web: WebSettings = Field(default_factory=WebSettings)
    resume: ResumeSettings = Field(default_factory=ResumeSettings)
    evaluation_worker: EvaluationWorkerSettings = Field(default_factory=EvaluationWorkerSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    agent_name: str = Field(default="sima-interviewer", description="LiveKit explicit dispatch name")

    @field_validator("profile")
    @classmethod
    def _profile_exists(cls, v: str, info: ValidationInfo) -> str:
        known = info.data.get("profiles")
        if known is not None and v not in known:
            raise ValueError(f"profile '{v}' is not defined; known: {', '.join(sorted(known))}")
        return v

    @property
    def active_profile(self) -> ProfileSettings:
        return self.profiles[self.profile]

    @property
    def judge_samples(self) -> int:
        return self.evaluation.samples or self.active_profile.judge_samples

    def fingerprint(self) -> str:
        """Short hash of the effective config, stored with each report."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _env_overrides(env: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, Any]]:
    out = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        path = tuple(part.lower() for part in name[len(ENV_PREFIX):].split("__"))
        if path[0] not in AppConfig.model_fields:
            continue  # other SIMA_ variables (test settings, etc.) are not config
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        out[path] = (name, value)
    return out


def _apply(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> AppConfig:
    """Load `path` (default: $SIMA_CONFIG or ./config.yaml), apply env overrides, validate everything."""
    env = os.environ if env is None else env
    path = path or Path(env.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG))
    doc: LocatedDoc = load_located_file(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    if doc.data is not None and not isinstance(doc.data, dict):
        raise SourceError([SourceProblem(doc.file, 1, "", "config must be a mapping of sections")])
    overrides = _env_overrides(env)
    for key_path, (_, value) in overrides.items():
        _apply(data, key_path, value)
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for problem, err in zip(problems_from_validation(doc, exc), exc.errors(), strict=True):
            loc = tuple(str(p) for p in err["loc"])
            source = next((name for kp, (name, _) in overrides.items() if loc[: len(kp)] == kp), None)
            problems.append(SourceProblem(f"${source}", 0, problem.field, problem.message) if source else problem)
        raise SourceError(problems) from exc
