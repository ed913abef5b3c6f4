"""The `evaluation:` section of config.yaml: weights and thresholds the code (not the LLM) applies."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from engine.settings import Strict


class Dimension(StrEnum):
    TECHNICAL = "technical_competency"
    PROBLEM_SOLVING = "problem_solving"
    COMMUNICATION = "communication"
    EXPERIENCE = "experience"
    CULTURE_FIT = "culture_fit"


def _default_weights() -> dict[Dimension, float]:
    return {
        Dimension.TECHNICAL: 0.35,
        Dimension.PROBLEM_SOLVING: 0.25,
        Dimension.COMMUNICATION: 0.15,
        Dimension.EXPERIENCE: 0.20,
        Dimension.CULTURE_FIT: 0.05,
    }


class Thresholds(Strict):
    """Lowest overall score (1–10) for each decision; below `maybe` is No Hire."""

    strong_hire: float = Field(default=8.0, ge=1, le=10)
    hire: float = Field(default=6.5, ge=1, le=10)
    maybe: float = Field(default=5.0, ge=1, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if not self.strong_hire > self.hire > self.maybe:
            raise ValueError("thresholds must satisfy strong_hire > hire > maybe")
        return self


class EvaluationSettings(Strict):
    weights: dict[Dimension, float] = Field(default_factory=_default_weights)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    temperature: float = Field(default=0.3, ge=0, le=2)
    samples: int | None = Field(default=None, ge=1, le=10, description="judge samples; None: the profile's")
    max_attempts: int = Field(default=5, ge=1, description="judge calls before a job is left pending")
    backoff_seconds: float = Field(default=2.0, ge=0, description="first retry delay; doubles each attempt")
    output_dir: str = "evaluations"

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[Dimension, float]) -> dict[Dimension, float]:
        missing = [d.value for d in Dimension if d not in v]
        if missing:
            raise ValueError(f"weights missing for: {', '.join(missing)}")
        if any(w < 0 for w in v.values()):
            raise ValueError("weights must not be negative")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1 (they sum to {total:g})")
        return v
