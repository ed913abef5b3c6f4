"""Answer scores → dimension scores, overall score, knock-outs, decision: all code, all from config.

Each dimension is the weighted mean of the answers of the phases that feed it (`evaluation.dimension_sources`),
each answer weighted by its phase's weight times its question's difficulty weight; communication also takes a share
from what code counts about clarity (length, fillers). A dimension no answer feeds is *not assessed* (None), never
1/10, and the overall score and role fit are taken over the assessed dimensions. When the evidence is under the
configured minimums (answered questions per phase, minutes of candidate speech, phases reached) the decision is
`Incomplete`, with the reasons.

Red flags come from code, not the judge: a spoken attempt to instruct the evaluator (quoted from the transcript) and
the behaviour warnings the interviewer gave live. Confidence per dimension is the spread of that dimension's score
over the judge samples, and how much verified evidence it rests on.

Example::

    >>> a = assess(answers, settings, record)     # doctest: +SKIP
    >>> a.overall, a.decision                     # doctest: +SKIP
    (7.5, <Decision.HIRE: 'Hire'>)
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from engine.phases import PHASE_ORDER, Phase
from engine.transcript import InterviewRecord, Speaker
from evaluation.answers import AnswerResult
from evaluation.evidence import Evidence
from evaluation.features import features, injections
from evaluation.scoring import KnockOut, capped, decide, knockouts, overall_score, role_fit_percentage, round1
from evaluation.settings import Decision, Dimension, EvaluationSettings

SPOKEN_WORDS_PER_MINUTE = 150
EVIDENCE_PER_DIMENSION = 3


class Confidence(BaseModel):
    level: Literal["high", "low"]
    mean: float
    spread: float  # population standard deviation of the dimension's score over judge samples
    scores: list[float]  # the dimension's score in each judge sample
    reasons: list[str]


class DimensionResult(BaseModel):
    score: float | None  # None: not assessed (no answer fed it)
    rationale: str
    evidence: list[Evidence]
    unverified_quotes: int
    confidence: Confidence
    answers: list[int] = []  # the numbers of the answers it was computed from


class RedFlagResult(BaseModel):
    description: str
    source: Literal["judge", "interview", "transcript"]
    stands: bool
    note: str = ""  # why a flag does not stand
    evidence: list[Evidence]


@dataclass
class Assessment:
    dimensions: dict[Dimension, DimensionResult]
    answers: list[AnswerResult]
    overall: float | None
    score_decision: Decision  # from the thresholds alone (Incomplete if nothing was assessed)
    decision: Decision  # after knock-outs and the evidence minimums
    knockouts: list[KnockOut]
    incomplete: list[str]  # why the decision is Incomplete; empty if it is not
    role_fit: int | None
    strengths: list[str]
    weaknesses: list[str]
    red_flags: list[RedFlagResult]
    summary: str
    samples: int
    verified_quotes: int
    unverified_quotes: int
    candidate_minutes: float
    phases_assessed: dict[Phase, float | None]

    @property
    def ratings(self) -> dict[Dimension, float | None]:
        return {d: r.score for d, r in self.dimensions.items()}


def _weighted(pairs: list[tuple[float, float]]) -> float:
    return sum(w * s for w, s in pairs) / sum(w for w, _ in pairs)


def _dimension(d: Dimension, answers: list[AnswerResult], settings: EvaluationSettings, samples: int
               ) -> DimensionResult:
    sources = settings.dimension_sources[d]
    difficulty = settings.answers.difficulty_weights
    fed = [(sources[a.phase] * difficulty.get(a.difficulty, 1.0), a) for a in answers
           if a.score is not None and sources.get(a.phase, 0) > 0]
    if not fed:
        return DimensionResult(score=None, rationale="Not assessed: no answer in "
                               + ", ".join(p.title for p in sources) + ".", evidence=[], unverified_quotes=0,
                               confidence=Confidence(level="low", mean=0, spread=0, scores=[],
                                                     reasons=["not assessed"]))
    clarity = settings.answers.clarity_weight if d is Dimension.COMMUNICATION else 0.0

    def score_of(k: int | None) -> float:
        mean = _weighted([(w, a.sample_scores[k % len(a.sample_scores)] if k is not None else a.score or 0)
                          for w, a in fed])
        if clarity:
            clear = statistics.fmean(float(a.features["clarity"]) for _, a in fed)
            mean = (1 - clarity) * mean + clarity * (1 + 9 * clear)
        return mean

    per_sample = [round1(score_of(k)) for k in range(samples)]
    score = round1(score_of(None))
    spread = round(statistics.pstdev(per_sample), 2) if len(per_sample) > 1 else 0.0
    evidence = [e for _, a in sorted(fed, key=lambda wa: -(wa[1].score or 0)) for p in a.points
                if p.status == "covered" for e in p.evidence][:EVIDENCE_PER_DIMENSION]
    reasons = []
    if len(fed) < 2:
        reasons.append("rests on one answer")
    if not evidence:
        reasons.append("no verified evidence of an expected point")
    if spread > settings.low_confidence_spread:
        reasons.append(f"judge samples disagree (spread {spread:g})")
    listed = ", ".join(f"Q{a.number} {a.score:g}" for _, a in fed)
    rationale = f"Weighted mean of {len(fed)} answer(s) ({listed})"
    if clarity:
        rationale += f", with {clarity:.0%} from clarity (answer length, fillers)"
    return DimensionResult(
        score=score, rationale=rationale + ".", evidence=evidence,
        unverified_quotes=sum(a.unverified_quotes for _, a in fed),
        confidence=Confidence(level="low" if reasons else "high", mean=round(statistics.fmean(per_sample), 2),
                              spread=spread, scores=per_sample, reasons=reasons),
        answers=[a.number for _, a in fed])


def candidate_minutes(record: InterviewRecord) -> float:
    """Minutes the candidate spoke: each turn's own time where it has one, else its words at 150 a minute (a typed
    turn starts and ends at the moment it is sent, so its time says nothing of how much was said)."""
    seconds = 0.0
    for t in record.candidate_turns():
        timed = t.ended_at - t.started_at if t.started_at is not None and t.ended_at is not None else 0.0
        seconds += timed if timed > 0 else features(t.text).words / SPOKEN_WORDS_PER_MINUTE * 60
    return round(seconds / 60, 1)


def _incomplete(answers: list[AnswerResult], minutes: float, settings: EvaluationSettings) -> list[str]:
    m = settings.minimums
    answered = {p: sum(1 for a in answers if a.phase is p and a.score is not None) for p in Phase}
    reasons = []
    for phase in PHASE_ORDER:
        need = m.answered.get(phase, 0)
        if answered[phase] < need:
            got = "not reached" if not any(a.phase is phase for a in answers) else f"{answered[phase]} answered"
            reasons.append(f"{phase.title}: {got}, {need} answered question(s) needed")
    if minutes < m.candidate_minutes:
        reasons.append(f"the candidate spoke for {minutes:g} min, {m.candidate_minutes:g} needed")
    reached = sum(1 for p in Phase if answered[p])
    if reached < m.phases_reached:
        reasons.append(f"{reached} phase(s) with an answer, {m.phases_reached} needed")
    return reasons


def red_flags(record: InterviewRecord, settings: EvaluationSettings) -> list[RedFlagResult]:
    out = []
    stands = settings.knockouts.manipulation
    for t in record.turns:
        if t.speaker is Speaker.CANDIDATE:
            for span in injections(t.text):
                out.append(RedFlagResult(
                    description="tried to instruct the evaluation (the words were not shown to the judge and "
                                "changed no score)", source="transcript", stands=stands,
                    note="" if stands else "manipulation attempts are not knock-outs (config)",
                    evidence=[Evidence(turn=t.index, quote=span.quote, start=span.start, end=span.end)]))
    warnings = settings.knockouts.interview_warnings
    out += [RedFlagResult(description=w, source="interview", stands=warnings,
                          note="" if warnings else "interview warnings are not knock-outs (config)", evidence=[])
            for w in record.warnings]
    return out


def _short(question: str, chars: int = 90) -> str:
    return question if len(question) <= chars else question[:chars].rsplit(" ", 1)[0] + " …"


def _notes(answers: list[AnswerResult]) -> tuple[list[str], list[str]]:
    scored = sorted((a for a in answers if a.score is not None), key=lambda a: -(a.score or 0))
    strengths = [f"{_short(a.question)} ({a.score:g}/10)" for a in scored if (a.score or 0) >= 7][:3]
    weaknesses = [f"stated a misconception: {m.misconception}" for a in answers for m in a.misconceptions]
    weaknesses += [f"{_short(a.question)} ({a.score:g}/10)" for a in reversed(scored) if (a.score or 0) <= 4.5]
    return strengths, weaknesses[:3]


def assess(answers: list[AnswerResult], settings: EvaluationSettings, record: InterviewRecord, *,
           samples: int) -> Assessment:
    dimensions = {d: _dimension(d, answers, settings, samples) for d in Dimension}
    ratings = {d: r.score for d, r in dimensions.items()}
    overall = overall_score(ratings, settings.weights)
    role_fit = role_fit_percentage(ratings, settings.weights)
    flags = red_flags(record, settings)
    fired = knockouts(ratings, [f.description for f in flags if f.stands], settings.knockouts)
    minutes = candidate_minutes(record)
    reasons = _incomplete(answers, minutes, settings)
    score_decision = decide(overall, settings.thresholds) if overall is not None else Decision.INCOMPLETE
    decision = Decision.INCOMPLETE if reasons or overall is None else capped(score_decision, fired)
    strengths, weaknesses = _notes(answers)
    phases: dict[Phase, float | None] = {}
    for p in PHASE_ORDER:
        scores = [a.score for a in answers if a.phase is p and a.score is not None]
        phases[p] = round1(statistics.fmean(scores)) if scores else None
    scored = [a for a in answers if a.score is not None]
    if decision is Decision.INCOMPLETE:
        summary = "Incomplete: " + "; ".join(reasons or ["nothing could be assessed"]) + "."
    else:
        summary = (f"{len(scored)} answers scored across {sum(1 for s in phases.values() if s is not None)} phases; "
                   f"overall {overall:g}/10.")
    if scored:
        best, worst = max(scored, key=lambda a: a.score or 0), min(scored, key=lambda a: a.score or 0)
        summary += f" Strongest answer: Q{best.number} ({best.score:g}); weakest: Q{worst.number} ({worst.score:g})."
    return Assessment(
        dimensions=dimensions, answers=answers, overall=overall, score_decision=score_decision, decision=decision,
        knockouts=fired, incomplete=reasons, role_fit=role_fit, strengths=strengths, weaknesses=weaknesses,
        red_flags=flags, summary=summary, samples=samples,
        verified_quotes=sum(len(p.evidence) for a in answers for p in a.points)
        + sum(len(m.evidence) for a in answers for m in a.misconceptions),
        unverified_quotes=sum(a.unverified_quotes for a in answers),
        candidate_minutes=minutes, phases_assessed=phases,
    )
