"""The evaluation report: the seed's JSON keys, extended, and the file names it is saved under.

The seed's `metadata`, `ratings` and `recommendation` keep their names and meaning; everything else (dimensions with
evidence and confidence, every question's answer with its score and expected points, red flags, phases, judge usage
and cost, the interview's own model usage and cost, latency, transcript, bank version, config hash) is added beside
them. A rating is null when the dimension was not assessed, and the decision may be `Incomplete` (with
`recommendation.incomplete` saying why).

Example::

    >>> report_stem("../../etc/passwd", "AI Developer", datetime(2026, 1, 23, 14, 30, 52))
    'etc_passwd_AI_Developer_20260123_143052'
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from engine.phases import Phase
from engine.transcript import InterviewRecord, ModelUsage, Speaker
from evaluation.aggregate import Assessment, DimensionResult, RedFlagResult
from evaluation.answers import AnswerResult
from evaluation.latency import LatencyStat, latency_summary
from evaluation.settings import Decision, Dimension

REPORT_SCHEMA_VERSION = 2
_UNSAFE = re.compile(r"[\W_]+")
MAX_NAME_PART = 40


class Metadata(BaseModel):
    candidate_name: str
    position: str
    interview_date: str  # ISO 8601
    duration_minutes: int
    interview_id: str
    role: str
    level: str | None
    duration_seconds: float
    end_reason: str | None
    bank_version: str | None
    config_hash: str | None
    judge_model: str
    evaluated_at: str


class Ratings(BaseModel):
    """1–10; null for a dimension (or an overall) that was not assessed."""

    overall_score: float | None
    technical_competency: float | None
    problem_solving: float | None
    communication: float | None
    experience: float | None
    culture_fit: float | None


class KnockOutResult(BaseModel):
    rule: str
    cap: Decision
    reason: str


class Recommendation(BaseModel):
    decision: Decision
    role_fit_percentage: int | None  # null when no role dimension was assessed
    score_decision: Decision  # what the weighted score alone gave, before knock-outs and evidence minimums
    knockouts: list[KnockOutResult]
    incomplete: list[str] = []  # why the decision is Incomplete


class EvidenceCounts(BaseModel):
    verified_quotes: int
    unverified_quotes: int  # quotes the judge gave that the candidate never said: dropped
    answers_scored: int = 0
    candidate_minutes: float = 0.0


class JudgeCost(BaseModel):
    """What judging this interview took; the cost is estimated from `evaluation.prices` (null: no price known,
    e.g. a local model)."""

    model: str
    calls: int
    failed_calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    estimated_cost_usd: float | None
    calibration: float = 1.0  # the stretch applied to this judge's answer scores (evaluation.calibration)


class ModelUsageCost(ModelUsage):
    """One model of the interview's voice session; the cost is estimated from `evaluation.prices` for an LLM's
    tokens (null: no price known, or an STT/TTS model, which is not priced)."""

    estimated_cost_usd: float | None = None


class InterviewUsage(BaseModel):
    """What the interview itself used (LiveKit's `session.usage`): per model, and the sum of the priced ones."""

    models: list[ModelUsageCost]
    estimated_cost_usd: float | None  # null: no model of the interview had a price


class ConfidenceSummary(BaseModel):
    samples: int
    low_confidence: list[Dimension]


class PhaseReport(BaseModel):
    phase: Phase
    budget_minutes: float
    used_minutes: float
    questions: list[str]
    score: float | None = None  # mean answer score; null: not assessed


class AskedQuestion(BaseModel):
    id: str
    phase: Phase
    text: str


class TranscriptTurn(BaseModel):
    index: int
    speaker: Speaker
    phase: Phase | None
    started_at: float | None
    text: str


class EvaluationReport(BaseModel):
    metadata: Metadata
    ratings: Ratings
    recommendation: Recommendation
    schema_version: int = REPORT_SCHEMA_VERSION
    summary: str
    dimensions: dict[Dimension, DimensionResult]
    strengths: list[str]
    weaknesses: list[str]
    red_flags: list[RedFlagResult]
    evidence: EvidenceCounts
    confidence: ConfidenceSummary
    per_question: list[AnswerResult]
    phase_scores: dict[Phase, float | None]  # null: not assessed
    judge: JudgeCost | None
    interview_usage: InterviewUsage | None = None  # null: the interview record carries no usage
    phases: list[PhaseReport]
    questions: list[AskedQuestion]
    latency: dict[str, LatencyStat]
    transcript: list[TranscriptTurn]


def build_report(record: InterviewRecord, assessment: Assessment, *, judge_model: str,
                 evaluated_at: datetime, judge: JudgeCost | None = None,
                 interview_usage: InterviewUsage | None = None) -> EvaluationReport:
    a = assessment
    return EvaluationReport(
        metadata=Metadata(
            candidate_name=record.candidate_name or "Unknown",
            position=record.position,
            interview_date=record.started_at.isoformat(),
            duration_minutes=round(record.duration_seconds / 60),
            interview_id=record.interview_id,
            role=record.role,
            level=record.level.value if record.level else None,
            duration_seconds=round(record.duration_seconds, 1),
            end_reason=record.end_reason,
            bank_version=record.bank_version,
            config_hash=record.config_hash,
            judge_model=judge_model,
            evaluated_at=evaluated_at.isoformat(),
        ),
        ratings=Ratings(overall_score=a.overall, **{d.value: r.score for d, r in a.dimensions.items()}),
        recommendation=Recommendation(
            decision=a.decision, role_fit_percentage=a.role_fit, score_decision=a.score_decision,
            knockouts=[KnockOutResult(rule=k.rule, cap=k.cap, reason=k.reason) for k in a.knockouts],
            incomplete=a.incomplete,
        ),
        summary=a.summary,
        dimensions=a.dimensions,
        strengths=a.strengths,
        weaknesses=a.weaknesses,
        red_flags=a.red_flags,
        evidence=EvidenceCounts(verified_quotes=a.verified_quotes, unverified_quotes=a.unverified_quotes,
                                answers_scored=sum(1 for x in a.answers if x.score is not None),
                                candidate_minutes=a.candidate_minutes),
        confidence=ConfidenceSummary(samples=a.samples, low_confidence=[d for d, r in a.dimensions.items()
                                                                        if r.confidence.level == "low"]),
        per_question=a.answers,
        phase_scores=a.phases_assessed,
        judge=judge,
        interview_usage=interview_usage,
        phases=[PhaseReport(phase=p.phase, budget_minutes=round(p.budget_seconds / 60, 2),
                            used_minutes=round(p.used_seconds / 60, 2), questions=p.questions,
                            score=a.phases_assessed.get(p.phase))
                for p in record.phases],
        questions=[AskedQuestion(id=q.id, phase=q.phase, text=q.text) for q in record.questions],
        latency=latency_summary(record.turns),
        transcript=[TranscriptTurn(index=t.index, speaker=t.speaker, phase=t.phase, started_at=t.started_at,
                                   text=t.text) for t in record.turns],
    )


def safe_part(text: str, fallback: str) -> str:
    """One file-name component from candidate input: letters and digits (any script) joined by '_', nothing else.

    >>> safe_part("  Zoë O'Neil ", "candidate"), safe_part("../..", "candidate")
    ('Zoë_O_Neil', 'candidate')
    """
    clean = _UNSAFE.sub("_", unicodedata.normalize("NFKC", text)).strip("_")[:MAX_NAME_PART].strip("_")
    return clean or fallback


def report_stem(candidate_name: str | None, position: str, at: datetime) -> str:
    """`<name>_<position>_<YYYYmmdd_HHMMSS>`, the seed's file naming, safe to join to any folder."""
    return f"{safe_part(candidate_name or '', 'candidate')}_{safe_part(position, 'position')}_{at:%Y%m%d_%H%M%S}"


def _create_unique(folder: Path, stem: str, suffix: str, content: str) -> Path:
    """Write a new file, never overwriting: two reports in the same second get `_2`, `_3`, ..."""
    n = 1
    while True:
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}_{n}{suffix}")
        try:
            with path.open("x", encoding="utf-8") as f:
                f.write(content)
            return path
        except FileExistsError:
            n += 1


def write_reports(report: EvaluationReport, html: str, folder: Path, at: datetime) -> tuple[Path, Path]:
    """Save `<stem>.json` and `<stem>.html` side by side; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = report_stem(report.metadata.candidate_name, report.metadata.position, at)
    json_path = _create_unique(folder, stem, ".json", report.model_dump_json(indent=2) + "\n")
    html_path = json_path.with_suffix(".html")
    html_path.write_text(html, encoding="utf-8")
    return json_path, html_path
