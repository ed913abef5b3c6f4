"""N verified judge samples → one assessment: dimension means and spreads, confidence, overall score, decision.

Each dimension's rating is the mean of the samples' scores; its rationale comes from the sample closest to that mean;
its evidence is every verified quote any sample gave. Strengths, weaknesses and the summary come from the sample whose
weighted score is closest to the mean.

A knock-out must rest on the candidate's own words: a judge red flag stands (and caps the decision) only with at least
one verified quote, and only when at least half the samples raise such a flag, so one noisy sample of three cannot
knock a candidate out. Warnings the interviewer gave live always stand. Flags that do not stand are still reported.

Example::

    >>> a = assess([verify_sample(output, CandidateText(record.turns))], settings, record.warnings)  # doctest: +SKIP
    >>> a.overall, a.decision                                                                        # doctest: +SKIP
    (7.5, <Decision.HIRE: 'Hire'>)
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from evaluation.evidence import Evidence, VerifiedSample, normalise
from evaluation.scoring import KnockOut, capped, decide, knockouts, overall_score, role_fit_percentage, round1
from evaluation.settings import Decision, Dimension, EvaluationSettings


class Confidence(BaseModel):
    level: Literal["high", "low"]
    mean: float
    spread: float  # population standard deviation of the samples' scores
    scores: list[int]
    reasons: list[str]


class DimensionResult(BaseModel):
    score: float
    rationale: str
    evidence: list[Evidence]
    unverified_quotes: int
    confidence: Confidence


class RedFlagResult(BaseModel):
    description: str
    source: Literal["judge", "interview"]
    stands: bool
    note: str = ""  # why a flag does not stand
    evidence: list[Evidence]


@dataclass
class Assessment:
    dimensions: dict[Dimension, DimensionResult]
    overall: float
    score_decision: Decision  # from the thresholds alone
    decision: Decision  # after knock-outs
    knockouts: list[KnockOut]
    role_fit: int
    strengths: list[str]
    weaknesses: list[str]
    red_flags: list[RedFlagResult]
    summary: str
    samples: int
    verified_quotes: int
    unverified_quotes: int

    @property
    def ratings(self) -> dict[Dimension, float]:
        return {d: r.score for d, r in self.dimensions.items()}


def _closest(values: list[float], target: float) -> int:
    return min(range(len(values)), key=lambda i: abs(values[i] - target))


def _dimension(d: Dimension, samples: list[VerifiedSample], max_spread: float) -> DimensionResult:
    scores = [s.output.dimension(d).score for s in samples]
    mean = statistics.fmean(scores)
    spread = round(statistics.pstdev(scores), 2)
    evidence: list[Evidence] = []
    for s in samples:
        evidence += [e for e in s.evidence[d] if all(e.key != o.key for o in evidence)]
    reasons = []
    if not evidence:
        reasons.append("no verified evidence")
    if spread > max_spread:
        reasons.append(f"judge samples disagree (spread {spread:g})")
    return DimensionResult(
        score=round1(mean),
        rationale=samples[_closest([float(x) for x in scores], mean)].output.dimension(d).rationale,
        evidence=sorted(evidence, key=lambda e: e.key),
        unverified_quotes=sum(s.dropped[d] for s in samples),
        confidence=Confidence(level="low" if reasons else "high", mean=round(mean, 2), spread=spread,
                              scores=scores, reasons=reasons),
    )


def _red_flags(samples: list[VerifiedSample], warnings: list[str], settings: EvaluationSettings
               ) -> list[RedFlagResult]:
    supported = sum(1 for s in samples if any(f.evidence for f in s.red_flags))
    majority = 2 * supported >= len(samples)
    out: list[RedFlagResult] = []
    seen: set[str] = set()
    for s in samples:
        for f in s.red_flags:
            key = normalise(f.description)
            if key in seen:
                continue
            seen.add(key)
            note = ("no verified quote from the candidate" if not f.evidence else
                    "" if majority else f"raised with evidence by {supported} of {len(samples)} judge samples")
            out.append(RedFlagResult(description=f.description, source="judge", stands=not note, note=note,
                                     evidence=f.evidence))
    stands = settings.knockouts.interview_warnings
    out += [RedFlagResult(description=w, source="interview", stands=stands,
                          note="" if stands else "interview warnings are not knock-outs (config)", evidence=[])
            for w in warnings]
    return out


def assess(samples: list[VerifiedSample], settings: EvaluationSettings, warnings: list[str]) -> Assessment:
    """Combine verified samples; `warnings` are the behaviour warnings the engine recorded during the interview."""
    if not samples:
        raise ValueError("assess needs at least one judge sample")
    dimensions = {d: _dimension(d, samples, settings.low_confidence_spread) for d in Dimension}
    ratings = {d: r.score for d, r in dimensions.items()}
    overall = overall_score(ratings, settings.weights)
    per_sample = [overall_score({d: s.output.dimension(d).score for d in Dimension}, settings.weights)
                  for s in samples]
    representative = samples[_closest(per_sample, statistics.fmean(per_sample))].output
    red_flags = _red_flags(samples, warnings, settings)
    fired = knockouts(ratings, [f.description for f in red_flags if f.stands], settings.knockouts)
    score_decision = decide(overall, settings.thresholds)
    return Assessment(
        dimensions=dimensions,
        overall=overall,
        score_decision=score_decision,
        decision=capped(score_decision, fired),
        knockouts=fired,
        role_fit=role_fit_percentage(ratings, settings.weights),
        strengths=representative.strengths,
        weaknesses=representative.weaknesses,
        red_flags=red_flags,
        summary=representative.summary,
        samples=len(samples),
        verified_quotes=sum(s.verified_count for s in samples),
        unverified_quotes=sum(s.dropped_count for s in samples),
    )
