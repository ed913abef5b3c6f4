"""The `evaluation:` section of config.yaml: weights, thresholds and knock-outs the code (not the LLM) applies.

Example (config.yaml)::

    evaluation:
      weights: {technical_competency: 0.35, problem_solving: 0.25, communication: 0.15,
                experience: 0.20, culture_fit: 0.05}
      thresholds: {strong_hire: 8.0, hire: 6.5, maybe: 5.0}
      knockouts: {red_flag_cap: Maybe, floors: {technical_competency: 3}}
      dimension_sources: {technical_competency: {technical: 1.0, scenario: 0.4}, ...}
      minimums: {answered: {technical: 2}, candidate_minutes: 4, phases_reached: 4}
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from engine.phases import Phase
from engine.settings import Strict


class Dimension(StrEnum):
    TECHNICAL = "technical_competency"
    PROBLEM_SOLVING = "problem_solving"
    COMMUNICATION = "communication"
    EXPERIENCE = "experience"
    CULTURE_FIT = "culture_fit"

    @property
    def title(self) -> str:
        return self.value.replace("_", " ").capitalize()


# The dimensions about the role itself (not the person): the role-fit percentage is their weighted mean.
ROLE_DIMENSIONS: tuple[Dimension, ...] = (Dimension.TECHNICAL, Dimension.PROBLEM_SOLVING, Dimension.EXPERIENCE)


class Decision(StrEnum):
    """The seed's four recommendations, and `Incomplete` (too little evidence to decide, not a low score); `rank`
    orders the seed's four so a knock-out can cap one."""

    STRONG_HIRE = "Strong Hire"
    HIRE = "Hire"
    MAYBE = "Maybe"
    NO_HIRE = "No Hire"
    INCOMPLETE = "Incomplete"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Decision.INCOMPLETE: -1, Decision.NO_HIRE: 0, Decision.MAYBE: 1, Decision.HIRE: 2,
          Decision.STRONG_HIRE: 3}


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


class KnockOuts(Strict):
    """Rules that cap the decision whatever the weighted score says."""

    red_flag_cap: Decision = Field(default=Decision.MAYBE, description="best decision once a red flag stands")
    interview_warnings: bool = Field(default=True, description="behaviour warnings given live count as red flags")
    manipulation: bool = Field(default=True, description="a spoken attempt to instruct the evaluator is a red flag "
                                                         "that stands (it never changes a score either way)")
    floors: dict[Dimension, float] = Field(
        default_factory=lambda: {Dimension.TECHNICAL: 3.0},
        description="a dimension scored below its floor means No Hire",
    )


def _default_sources() -> dict[Dimension, dict[Phase, float]]:
    every = {p: 1.0 for p in (Phase.INTRODUCTION, Phase.EXPERIENCE, Phase.TECHNICAL, Phase.BEHAVIORAL,
                              Phase.SCENARIO)}
    return {
        Dimension.TECHNICAL: {Phase.TECHNICAL: 1.0, Phase.SCENARIO: 0.4},
        Dimension.PROBLEM_SOLVING: {Phase.SCENARIO: 1.0, Phase.TECHNICAL: 0.5},
        Dimension.COMMUNICATION: every,
        Dimension.EXPERIENCE: {Phase.EXPERIENCE: 1.0, Phase.INTRODUCTION: 0.3},
        Dimension.CULTURE_FIT: {Phase.BEHAVIORAL: 1.0, Phase.WRAP_UP: 0.3},
    }


class Minimums(Strict):
    """Below any of these the decision is `Incomplete`, with the reasons: too little evidence is not a low score."""

    answered: dict[Phase, int] = Field(
        default_factory=lambda: {Phase.EXPERIENCE: 1, Phase.TECHNICAL: 2, Phase.BEHAVIORAL: 1, Phase.SCENARIO: 1},
        description="answered questions needed per scored phase")
    candidate_minutes: float = Field(default=1.0, ge=0, description="minutes of candidate speech (150 words a "
                                                                    "minute when untimed)")
    phases_reached: int = Field(default=4, ge=0, le=6, description="phases with at least one answer")


class AnswerScoring(Strict):
    """How code turns one answer's judgement into its 1–10 score (see evaluation.answers)."""

    coverage_weight: float = Field(default=0.5, ge=0, le=1, description="share of the expected points covered")
    anchor_weight: float = Field(default=0.35, ge=0, le=1, description="the judge's anchored 1–10 score")
    features_weight: float = Field(default=0.15, ge=0, le=1, description="specifics, numbers, ownership")
    status_weight: float = Field(default=1.0, ge=0, le=1, description="a point's credit from the judge's verdict "
                                 "(covered 1, partly ½); the rest from how much of the point the quoted sentence "
                                 "carries (half its words or more 1, a quarter ½)")
    misconception_penalty: float = Field(default=2.5, ge=0, description="points off per misconception stated")
    misconception_cap: float = Field(default=4.0, ge=1, le=10, description="best score of an answer stating one")
    difficulty_weights: dict[str, float] = Field(default_factory=lambda: {"easy": 0.8, "medium": 1.0, "hard": 1.3})
    min_answer_words: int = Field(default=4, ge=1, description="fewer real words is no evidence (garbled/empty)")
    clarity_weight: float = Field(default=0.4, ge=0, le=1, description="communication: share from countable "
                                                                       "clarity (length, fillers, focus)")

    @model_validator(mode="after")
    def _sum(self) -> AnswerScoring:
        total = self.coverage_weight + self.anchor_weight + self.features_weight
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"coverage_weight + anchor_weight + features_weight must be 1 (they are {total:g})")
        return self


class Price(Strict):
    input_per_million: float = Field(ge=0, description="USD per million prompt tokens")
    output_per_million: float = Field(ge=0, description="USD per million completion tokens")


class EvaluationSettings(Strict):
    weights: dict[Dimension, float] = Field(default_factory=_default_weights)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    knockouts: KnockOuts = Field(default_factory=KnockOuts)
    temperature: float = Field(default=0.3, ge=0, le=2)
    samples: int | None = Field(default=None, ge=1, le=10, description="judge samples; None: the profile's")
    max_attempts: int = Field(default=5, ge=1, description="judge calls per sample before a job is left failed")
    backoff_seconds: float = Field(default=2.0, ge=0, description="first retry delay; doubles each attempt")
    max_output_tokens: int = Field(default=2048, ge=256, description="cap on one judge reply (≈1k is typical)")
    request_timeout_seconds: float = Field(default=300, gt=0, description="one judge call (a local model is slow)")
    lease_seconds: float = Field(default=60, gt=0, description="a claimed job whose worker stops renewing "
                                                               "this long is claimable again")
    low_confidence_spread: float = Field(default=1.5, ge=0, description="judge samples spread (stdev) above this "
                                                                         "marks a dimension low confidence")
    output_dir: str = "evaluations"
    dimension_sources: dict[Dimension, dict[Phase, float]] = Field(
        default_factory=_default_sources,
        description="which phases' answer scores feed each dimension, and how much (then × difficulty weight)")
    minimums: Minimums = Field(default_factory=Minimums)
    answers: AnswerScoring = Field(default_factory=AnswerScoring)
    concurrency: int = Field(default=1, ge=1, le=32, description="judge calls in flight (llama.cpp serves one)")
    prices: dict[str, Price] = Field(default_factory=dict, description="model → price, for cost estimates (the "
                                     "judge's, and the interview's own LLM)")
    calibration: dict[str, float] = Field(
        default_factory=dict, description="judge model → stretch of its answer scores around 1 (a small model that "
                                          "uses only the middle of the scale), as measured by the validity benchmark")

    @field_validator("calibration")
    @classmethod
    def _stretches(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not 0.5 <= k <= 3 for k in v.values()):
            raise ValueError("a calibration stretch must be between 0.5 and 3")
        return v

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
        if not any(v[d] > 0 for d in ROLE_DIMENSIONS):
            raise ValueError("at least one of technical_competency, problem_solving, experience needs a weight")
        return v

    @field_validator("dimension_sources")
    @classmethod
    def _sources(cls, v: dict[Dimension, dict[Phase, float]]) -> dict[Dimension, dict[Phase, float]]:
        missing = [d.value for d in Dimension if not any(w > 0 for w in v.get(d, {}).values())]
        if missing:
            raise ValueError(f"no phase with a positive weight feeds: {', '.join(missing)}")
        if any(w < 0 for m in v.values() for w in m.values()):
            raise ValueError("source weights must not be negative")
        return v
