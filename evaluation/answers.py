"""One answer's score, computed by code from what the judge told about it and what code counts.

Per judge sample: the expected points' coverage (a point counts only with a quote found in this answer's words, in a
sentence that is about that point: covered 1, partly ½), the judge's anchored 1–10 score, and the countable features
(specifics, numbers, ownership) are weighted into 1–10 (`evaluation.answers` in config.yaml); every listed
misconception the candidate stated — with a verified quote — takes points off and caps the answer. The answer's score
is the mean over samples; their spread is its confidence. An answer that only says "I don't know" scores 1 without a
judge call; an exchange with no real words (garbled, empty) is not evidence and is not scored.

Example::

    >>> s = AnswerScoring()
    >>> combine(coverage=1.0, anchor=8, features=0.5, misconceptions=0, settings=s)
    8.6
    >>> combine(coverage=1.0, anchor=8, features=0.5, misconceptions=1, settings=s)
    4.0
"""

from __future__ import annotations

import statistics
from typing import Literal

from pydantic import BaseModel

from engine.phases import Phase
from evaluation.evidence import CandidateText, Evidence
from evaluation.exchanges import Exchange
from evaluation.features import Features, features, is_dont_know, is_evidence, overlap
from evaluation.judge import AnswerJudgement, Quote
from evaluation.scoring import round1
from evaluation.settings import AnswerScoring

DONT_KNOW_SCORE = 1.0
# A quote counts for a point (or a misconception) only if its sentence has this share of the point's content words:
# small judges quote any sentence of the answer, or the rubric's own words, for points the candidate never made.
RELEVANCE = 0.25
_CREDIT = {"covered": 1.0, "partly": 0.5, "missing": 0.0}


class PointResult(BaseModel):
    point: str
    status: Literal["covered", "partly", "missing"]  # the majority over samples, after verification
    evidence: list[Evidence]


class MisconceptionResult(BaseModel):
    misconception: str
    evidence: list[Evidence]


class AnswerResult(BaseModel):
    """One question exchange, scored (or why not)."""

    number: int
    phase: Phase
    question_id: str | None
    rubric: str  # where the rubric came from: bank | matched | phase | none
    difficulty: str
    question: str
    answer_excerpt: str
    answer_turns: list[int]
    status: Literal["scored", "dont_know", "no_evidence", "no_answer"]
    score: float | None
    spread: float
    sample_scores: list[float]
    coverage: float | None
    anchor_scores: list[int]
    rationale: str
    points: list[PointResult]
    misconceptions: list[MisconceptionResult]
    features: dict[str, int | float]
    unverified_quotes: int

    @property
    def scored(self) -> bool:
        return self.score is not None


def combine(*, coverage: float | None, anchor: int, features: float, misconceptions: int,
            settings: AnswerScoring) -> float:
    """One sample's 1–10 answer score. Without expected points, coverage's share goes to the anchored score."""
    if coverage is None:
        raw = ((settings.anchor_weight + settings.coverage_weight) * (anchor - 1) / 9
               + settings.features_weight * features)
    else:
        raw = (settings.coverage_weight * coverage + settings.anchor_weight * (anchor - 1) / 9
               + settings.features_weight * features)
    score = 1 + 9 * raw
    if misconceptions:
        score = min(score - settings.misconception_penalty * misconceptions, settings.misconception_cap)
    return round1(max(1.0, min(10.0, score)))


def _excerpt(text: str, words: int = 60) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _base(exchange: Exchange, status: str, counted: Features) -> AnswerResult:
    return AnswerResult(
        number=exchange.number, phase=exchange.phase, question_id=exchange.question_id,
        rubric=exchange.rubric.source, difficulty=exchange.rubric.difficulty,
        question=exchange.written or exchange.question,
        answer_excerpt=_excerpt(exchange.answer_text()), answer_turns=[t.index for t in exchange.answers],
        status=status, score=None, spread=0.0, sample_scores=[], coverage=None, anchor_scores=[], rationale="",  # type: ignore[arg-type]
        points=[], misconceptions=[], features={"words": counted.words, "specifics": counted.specifics,
                                                "numbers": counted.numbers, "ownership": counted.ownership,
                                                "fillers": counted.fillers, "concreteness": counted.score,
                                                "clarity": counted.clarity},
        unverified_quotes=0)


def needs_judge(exchange: Exchange, settings: AnswerScoring) -> bool:
    text = exchange.answer_text()
    return bool(exchange.asked) and is_evidence(text, settings.min_answer_words) and not is_dont_know(text)


def unjudged(exchange: Exchange, settings: AnswerScoring) -> AnswerResult:
    """An exchange code scores alone: no question asked, no real words, or only "I don't know"."""
    text = exchange.answer_text()
    counted = features(text)
    if not exchange.asked or not exchange.answers:
        return _base(exchange, "no_answer", counted)
    if not is_evidence(text, settings.min_answer_words):
        return _base(exchange, "no_evidence", counted)
    result = _base(exchange, "dont_know", counted)
    result.score, result.sample_scores, result.coverage = DONT_KNOW_SCORE, [DONT_KNOW_SCORE], 0.0
    result.rationale = "The candidate said they did not know."
    result.points = [PointResult(point=p, status="missing", evidence=[]) for p in exchange.rubric.expected_points]
    return result


def calibrated(score: float, stretch: float) -> float:
    """A judge's answer score on the full scale: a small model that uses only the middle of the 1–10 scale is
    stretched around 1 by the factor its validity run measured (`evaluation.calibration`), capped at 10.

    >>> calibrated(4.5, 1.8), calibrated(9.0, 1.8), calibrated(4.5, 1.0)
    (7.3, 10.0, 4.5)
    """
    return round1(min(10.0, 1 + stretch * (score - 1)))


def judged(exchange: Exchange, samples: list[AnswerJudgement], settings: AnswerScoring, *,
           stretch: float = 1.0) -> AnswerResult:
    """Verify every quote of every sample against this answer's own words, then score (see `calibrated`)."""
    text = CandidateText(exchange.answers)
    counted = features(exchange.answer_text())
    result = _base(exchange, "scored", counted)
    rubric = exchange.rubric
    statuses: list[list[str]] = [[] for _ in rubric.expected_points]
    point_evidence: list[list[Evidence]] = [[] for _ in rubric.expected_points]
    wrong_evidence: list[list[Evidence]] = [[] for _ in rubric.misconceptions]
    scores: list[float] = []
    dropped = 0
    for sample in samples:
        credit = [0.0] * len(rubric.expected_points)
        seen = set()
        for p in sample.points:
            i = p.n - 1
            if not 0 <= i < len(rubric.expected_points) or i in seen:
                continue
            seen.add(i)
            status, said = p.status, 0.0
            if status != "missing":
                found = text.find(Quote(quote=p.quote))
                relevance = overlap(rubric.expected_points[i], text.sentence(found)) if found else 0.0
                # a point the candidate's words do not show is not covered
                if found is None or relevance < RELEVANCE:
                    dropped += 1
                    status = "missing"
                else:
                    said = 1.0 if relevance >= 2 * RELEVANCE else 0.5
                    if all(e.key != found.key for e in point_evidence[i]):
                        point_evidence[i].append(found)
            statuses[i].append(status)
            # the judge's verdict, and how much of the point the quoted sentence itself carries
            credit[i] = settings.status_weight * _CREDIT[status] + (1 - settings.status_weight) * said
        stated = set()
        for m in sample.misconceptions:
            i = m.n - 1
            if not 0 <= i < len(rubric.misconceptions) or i in stated:
                continue
            found = text.find_claim(Quote(quote=m.quote))
            # a misconception must be in the candidate's words too, in a sentence about it
            if found is None or overlap(rubric.misconceptions[i], text.sentence(found)) < RELEVANCE:
                dropped += 1
                continue
            stated.add(i)
            if all(e.key != found.key for e in wrong_evidence[i]):
                wrong_evidence[i].append(found)
        coverage = sum(credit) / len(credit) if credit else None
        scores.append(calibrated(combine(coverage=coverage, anchor=sample.score, features=counted.score,
                                         misconceptions=len(stated), settings=settings), stretch))
    mean = statistics.fmean(scores)
    result.score = round1(mean)
    result.spread = round(statistics.pstdev(scores), 2)
    result.sample_scores = scores
    result.anchor_scores = [s.score for s in samples]
    closest = min(range(len(samples)), key=lambda k: abs(scores[k] - mean))
    result.rationale = samples[closest].why
    result.points = [PointResult(point=p, status=_majority(statuses[i]), evidence=point_evidence[i])
                     for i, p in enumerate(rubric.expected_points)]
    if rubric.expected_points:
        result.coverage = round(statistics.fmean(_CREDIT[p.status] for p in result.points), 2)
    # a misconception is reported when any sample found it in the candidate's words (it lowered that sample)
    result.misconceptions = [MisconceptionResult(misconception=m, evidence=wrong_evidence[i])
                             for i, m in enumerate(rubric.misconceptions) if wrong_evidence[i]]
    result.unverified_quotes = dropped
    return result


def _majority(statuses: list[str]) -> Literal["covered", "partly", "missing"]:
    """The middle status over samples (a point one sample missed and two covered is covered)."""
    if not statuses:
        return "missing"
    ordered = sorted(statuses, key=lambda s: _CREDIT[s])
    middle: Literal["covered", "partly", "missing"] = ordered[len(ordered) // 2]  # type: ignore[assignment]
    return middle
