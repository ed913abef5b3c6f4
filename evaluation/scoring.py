"""The arithmetic the code (never the LLM) does: weighted overall score, thresholds, knock-outs, role fit.

Scores are rounded half-up to one decimal before they are compared, so the number a report shows is the number the
decision was made on.

Example::

    >>> from evaluation.settings import EvaluationSettings
    >>> s = EvaluationSettings()
    >>> scores = {Dimension.TECHNICAL: 8, Dimension.PROBLEM_SOLVING: 7, Dimension.COMMUNICATION: 6,
    ...           Dimension.EXPERIENCE: 9, Dimension.CULTURE_FIT: 5}
    >>> overall_score(scores, s.weights), decide(7.5, s.thresholds), role_fit_percentage(scores, s.weights)
    (7.5, <Decision.HIRE: 'Hire'>, 77)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from evaluation.settings import ROLE_DIMENSIONS, Decision, Dimension, KnockOuts, Thresholds


def round1(value: float) -> float:
    """Half-up to one decimal, without binary float surprises (0.35 × 7 is 2.45, as a person would read it).

    >>> round1(0.35 * 7), round(0.35 * 7, 1)
    (2.5, 2.4)
    """
    # Going through 12 significant digits first drops the float noise (0.35 * 7 = 2.4499999999999997).
    return float(Decimal(f"{value:.12g}").quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def overall_score(scores: Mapping[Dimension, float], weights: Mapping[Dimension, float]) -> float:
    return round1(sum(weights[d] * scores[d] for d in Dimension))


def decide(overall: float, thresholds: Thresholds) -> Decision:
    if overall >= thresholds.strong_hire:
        return Decision.STRONG_HIRE
    if overall >= thresholds.hire:
        return Decision.HIRE
    if overall >= thresholds.maybe:
        return Decision.MAYBE
    return Decision.NO_HIRE


def role_fit_percentage(scores: Mapping[Dimension, float], weights: Mapping[Dimension, float]) -> int:
    """The role dimensions' weighted mean (technical, problem solving, experience), from 1–10 onto 0–100 %."""
    total = sum(weights[d] for d in ROLE_DIMENSIONS)
    mean = sum(weights[d] * scores[d] for d in ROLE_DIMENSIONS) / total
    return int(Decimal(f"{(mean - 1) / 9 * 100:.12g}").quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class KnockOut:
    rule: str  # "floor" | "red_flag"
    cap: Decision
    reason: str


def knockouts(scores: Mapping[Dimension, float], red_flags: list[str], rules: KnockOuts) -> list[KnockOut]:
    """Every rule that fires; `red_flags` are the descriptions of the red flags that stand."""
    fired = [
        KnockOut("floor", Decision.NO_HIRE, f"{d.value} {scores[d]:g} is below its floor of {floor:g}")
        for d, floor in rules.floors.items()
        if scores[d] < floor
    ]
    fired += [KnockOut("red_flag", rules.red_flag_cap, f"red flag: {flag}") for flag in red_flags]
    return fired


def capped(decision: Decision, fired: list[KnockOut]) -> Decision:
    return min([decision, *(k.cap for k in fired)], key=lambda d: d.rank)
