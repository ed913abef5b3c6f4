"""Transcripts: the turns of an interview and the record handed to evaluation.

The pipeline captures turns as they happen; storage persists them one by one; evaluation reads an
:class:`InterviewRecord`, which joins the turns with the engine's snapshot and the bank questions that were asked.

Example::

    >>> t = Turn(index=0, speaker=Speaker.CANDIDATE, text="I build APIs.", started_at=3.2, ended_at=5.0)
    >>> t.model_dump(mode="json")["speaker"]
    'candidate'
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from engine.banks import BankSet
from engine.phases import Level, Phase
from engine.snapshot import AnswerNote, EngineSnapshot


class Speaker(StrEnum):
    AGENT = "agent"
    CANDIDATE = "candidate"


class TurnMetrics(BaseModel):
    """Latency figures from LiveKit's `ChatMessage.metrics`, in seconds, where the pipeline had them."""

    transcription_delay: float | None = None
    end_of_turn_delay: float | None = None
    llm_ttft: float | None = None
    tts_ttfb: float | None = None
    e2e_latency: float | None = None


class Turn(BaseModel):
    index: int = Field(ge=0)
    speaker: Speaker
    text: str
    started_at: float | None = Field(default=None, description="interview seconds")
    ended_at: float | None = None
    phase: Phase | None = None
    question_id: str | None = None
    stt_confidence: float | None = None
    interrupted: bool = False
    metrics: TurnMetrics | None = None


class AskedQuestionDetail(BaseModel):
    """A bank question as the judge sees it: what was asked and what a good answer covers."""

    id: str
    phase: Phase
    text: str
    expected_points: list[str] = Field(default_factory=list)
    rubric: dict[int, str] | None = None
    follow_ups_used: int = 0


class PhaseTime(BaseModel):
    phase: Phase
    budget_seconds: float
    used_seconds: float
    questions: list[str]


class ModelUsage(BaseModel):
    """What one model of the interview's own pipeline used (LLM tokens, STT audio seconds, TTS characters/seconds)."""

    kind: Literal["llm", "stt", "tts"]
    provider: str = ""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    audio_seconds: float = 0.0  # STT: audio transcribed; TTS: audio generated
    characters: int = 0  # TTS: characters synthesized


class SessionUsage(BaseModel):
    """The usage of the voice session that conducted the interview, per model (LiveKit's `session.usage`, converted
    by the pipeline; a resumed interview counts from its last resume).

    >>> SessionUsage(models=[ModelUsage(kind="llm", model="gpt-4o", prompt_tokens=900, completion_tokens=80)]
    ...              ).models[0].prompt_tokens
    900
    """

    models: list[ModelUsage] = Field(default_factory=list)


class InterviewRecord(BaseModel):
    interview_id: str
    candidate_name: str | None
    role: str
    position: str = Field(description="display name of the role interviewed for")
    level: Level | None
    started_at: datetime
    duration_seconds: float
    end_reason: str | None
    turns: list[Turn]
    questions: list[AskedQuestionDetail] = Field(default_factory=list)
    phases: list[PhaseTime] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    answers: list[AnswerNote] = Field(default_factory=list, description="how each candidate turn was read, and "
                                      "what the interviewer did about it")
    bank_version: str | None = None
    config_hash: str | None = None
    usage: SessionUsage | None = None  # the interview's own LLM/STT/TTS usage; None: not recorded

    def candidate_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.speaker is Speaker.CANDIDATE]

    @classmethod
    def build(
        cls,
        snapshot: EngineSnapshot,
        turns: list[Turn],
        banks: BankSet,
        started_at: datetime,
        config_hash: str | None = None,
        usage: SessionUsage | None = None,
    ) -> InterviewRecord:
        """Join an engine snapshot, the captured turns and the banks into what evaluation reads."""
        p = snapshot.profile
        bank = banks.bank(p.role or "generic")
        questions = []
        for a in snapshot.asked:
            q = banks.question(a.id)
            if q is not None:
                questions.append(AskedQuestionDetail(id=q.id, phase=a.phase, text=q.text,
                                                     expected_points=q.expected_points, rubric=q.rubric,
                                                     follow_ups_used=a.follow_ups_used))
        return cls(
            interview_id=snapshot.interview_id,
            candidate_name=p.name,
            role=bank.role,
            position=p.position if bank.role == "generic" and p.position else bank.name,
            level=p.level,
            started_at=started_at,
            duration_seconds=snapshot.elapsed_seconds,
            end_reason=snapshot.end_reason,
            turns=turns,
            questions=questions,
            phases=[
                PhaseTime(phase=t.phase, budget_seconds=t.budget_seconds,
                          used_seconds=t.used(snapshot.elapsed_seconds),
                          questions=[a.id for a in snapshot.asked if a.phase == t.phase])
                for t in snapshot.phases
            ],
            notes=[n.text for n in snapshot.notes],
            warnings=[w.text for w in snapshot.warnings],
            answers=snapshot.answers,
            bank_version=banks.version(bank.role),
            config_hash=config_hash,
            usage=usage,
        )
