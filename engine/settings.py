"""Typed interview settings: per-phase budgets and question counts, warnings, global limits.

These are the `interview:` section of config.yaml. Defaults add up to a 22-minute interview inside the
20–25 minute window.

Example::

    >>> s = InterviewSettings()
    >>> s.planned_total_seconds / 60
    22.0
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.phases import PHASE_ORDER, Phase


class Strict(BaseModel):
    """Base for every user-editable model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PhaseSettings(Strict):
    minutes: float = Field(gt=0, le=15, description="planned budget for this phase")
    min_questions: int = Field(default=1, ge=0, description="bank questions before the agent may move on")
    max_questions: int = Field(default=6, ge=1, description="bank questions at most in this phase")

    @model_validator(mode="after")
    def _counts(self) -> PhaseSettings:
        if self.min_questions > self.max_questions:
            raise ValueError("min_questions must not exceed max_questions")
        return self


def _default_phases() -> dict[Phase, PhaseSettings]:
    return {
        Phase.INTRODUCTION: PhaseSettings(minutes=2, min_questions=1, max_questions=3),
        Phase.EXPERIENCE: PhaseSettings(minutes=4, min_questions=1, max_questions=4),
        Phase.TECHNICAL: PhaseSettings(minutes=6, min_questions=2, max_questions=6),
        Phase.BEHAVIORAL: PhaseSettings(minutes=4, min_questions=1, max_questions=4),
        Phase.SCENARIO: PhaseSettings(minutes=4, min_questions=1, max_questions=3),
        Phase.WRAP_UP: PhaseSettings(minutes=2, min_questions=1, max_questions=2),
    }


class InterviewSettings(Strict):
    phases: dict[Phase, PhaseSettings] = Field(default_factory=_default_phases)
    min_total_minutes: float = Field(default=20, gt=0)
    target_total_minutes: float = Field(default=22, gt=0)
    hard_limit_minutes: float = Field(default=25, gt=0)
    follow_up_cap: int = Field(default=2, ge=0, description="follow-ups at most per bank question")
    time_warning_seconds: float = Field(default=30, ge=0, description="warn this long before a phase's end")
    grace_seconds: float = Field(default=45, ge=0, description="a phase may overrun its budget this long")
    min_phase_seconds: float = Field(default=45, gt=0, description="rebalancing never squeezes a phase below")
    warning_limit: int = Field(default=3, ge=1, description="behaviour warnings before a polite end")

    @model_validator(mode="after")
    def _window(self) -> InterviewSettings:
        missing = [p.value for p in PHASE_ORDER if p not in self.phases]
        if missing:
            raise ValueError(f"every phase needs a budget; missing: {', '.join(missing)}")
        if not self.min_total_minutes <= self.target_total_minutes <= self.hard_limit_minutes:
            raise ValueError("need min_total_minutes <= target_total_minutes <= hard_limit_minutes")
        total = self.planned_total_seconds / 60
        if not self.min_total_minutes <= total <= self.hard_limit_minutes:
            raise ValueError(
                f"phase minutes add up to {total:g}, outside the {self.min_total_minutes:g}–"
                f"{self.hard_limit_minutes:g} minute window"
            )
        if self.time_warning_seconds >= min(p.minutes for p in self.phases.values()) * 60:
            raise ValueError("time_warning_seconds must be shorter than the shortest phase")
        return self

    @property
    def planned_total_seconds(self) -> float:
        return sum(p.minutes for p in self.phases.values()) * 60

    @property
    def hard_limit_seconds(self) -> float:
        return self.hard_limit_minutes * 60

    @property
    def target_total_seconds(self) -> float:
        return self.target_total_minutes * 60
