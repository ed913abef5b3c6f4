"""The whole engine state as one serialisable value, persisted after every turn.

Times are interview seconds (since the interview started), never clock readings, so a snapshot restored on another
clock, process or machine resumes with exactly the same remaining budget.

Example::

    >>> snap = EngineSnapshot(interview_id="abc", state="technical", elapsed_seconds=400.0)
    >>> EngineSnapshot.model_validate_json(snap.model_dump_json()) == snap
    True
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.phases import Level, Phase


class Profile(BaseModel):
    name: str | None = None
    role: str | None = None
    level: Level | None = None
    years: float | None = None
    position: str | None = Field(default=None, description="the role as the candidate named it (untrusted)")
    source: str | None = Field(default=None, description="preset | detected | fallback")


class PhaseTiming(BaseModel):
    phase: Phase
    budget_seconds: float
    started_at: float
    ended_at: float | None = None
    warned: bool = False
    timed_out: bool = False
    end_reason: str | None = None

    def used(self, now: float) -> float:
        return (self.ended_at if self.ended_at is not None else now) - self.started_at


class AskedQuestion(BaseModel):
    id: str
    phase: Phase
    asked_at: float
    follow_ups_used: int = 0


class Note(BaseModel):
    phase: Phase | None
    at: float
    text: str


class EngineSnapshot(BaseModel):
    schema_version: int = 1
    interview_id: str
    state: str
    elapsed_seconds: float
    phases: list[PhaseTiming] = Field(default_factory=list)
    asked: list[AskedQuestion] = Field(default_factory=list)
    profile: Profile = Field(default_factory=Profile)
    notes: list[Note] = Field(default_factory=list)
    warnings: list[Note] = Field(default_factory=list)
    ended_at: float | None = None
    end_reason: str | None = None
