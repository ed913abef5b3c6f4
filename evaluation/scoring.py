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

A dimension that was not assessed (None) is left out and the others' weights are scaled up to fill its share:

    >>> overall_score(scores | {Dimension.CULTURE_FIT: None}, s.weights)
    7.6
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


def _weighted_mean(scores: Mapping[Dimension, float | None], weights: Mapping[Dimension, float],
                   among: tuple[Dimension, ...]) -> float | None:
    pairs = [(weights[d], s) for d in among if (s := scores.get(d)) is not None and weights[d] > 0]
    total = sum(w for w, _ in pairs)
    return sum(w * s for w, s in pairs) / total if total else None


def overall_score(scores: Mapping[Dimension, float | None], weights: Mapping[Dimension, float]) -> float | None:
    """The weighted mean over the assessed dimensions; None if none was assessed."""
    mean = _weighted_mean(scores, weights, tuple(Dimension))
    return round1(mean) if mean is not None else None


def decide(overall: float, thresholds: Thresholds) -> Decision:
    if overall >= thresholds.strong_hire:
        return Decision.STRONG_HIRE
    if overall >= thresholds.hire:
        return Decision.HIRE
    if overall >= thresholds.maybe:
        return Decision.MAYBE
    return Decision.NO_HIRE


def role_fit_percentage(scores: Mapping[Dimension, float | None], weights: Mapping[Dimension, float]) -> int | None:
    """The assessed role dimensions' weighted mean (technical, problem solving, experience), 1–10 onto 0–100 %."""
    mean = _weighted_mean(scores, weights, ROLE_DIMENSIONS)
    if mean is None:
        return None
    return int(Decimal(f"{(mean - 1) / 9 * 100:.12g}").quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class KnockOut:
    rule: str  # "floor" | "red_flag"
    cap: Decision
    reason: str


def knockouts(scores: Mapping[Dimension, float | None], red_flags: list[str], rules: KnockOuts) -> list[KnockOut]:
    """Every rule that fires; `red_flags` are the descriptions of the red flags that stand. A dimension that was
    not assessed has no floor to fall below."""
    fired = [
        KnockOut("floor", Decision.NO_HIRE, f"{d.value} {score:g} is below its floor of {floor:g}")
        for d, floor in rules.floors.items()
        if (score := scores.get(d)) is not None and score < floor
    ]
    fired += [KnockOut("red_flag", rules.red_flag_cap, f"red flag: {flag}") for flag in red_flags]
    return fired


def capped(decision: Decision, fired: list[KnockOut]) -> Decision:
    return min([decision, *(k.cap for k in fired)], key=lambda d: d.rank)
