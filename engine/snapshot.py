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
    follow_ups_asked: list[int] = Field(default_factory=list, description="indices of the bank follow-ups asked")
    covered: list[int] = Field(default_factory=list, description="expected points the answers touched so far")
    answers: list[str] = Field(default_factory=list, description="the kind of each candidate turn on it, in order")


class Note(BaseModel):
    phase: Phase | None
    at: float
    text: str


class AnswerNote(BaseModel):
    """How one candidate turn was read and what the engine did about it (for the journal and the judge)."""

    question_id: str | None
    phase: Phase | None
    at: float
    kind: str
    source: str
    move: str
    covered: list[int] = Field(default_factory=list)


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
    answers: list[AnswerNote] = Field(default_factory=list)
    ended_at: float | None = None
    end_reason: str | None = None
