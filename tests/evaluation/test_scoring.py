"""The weighted arithmetic, thresholds and knock-outs: code, never the LLM."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from evaluation.scoring import capped, decide, knockouts, overall_score, role_fit_percentage, round1
from evaluation.settings import Decision, Dimension, EvaluationSettings, KnockOuts

D = Dimension
DEFAULT = EvaluationSettings()


def scores(t: float, p: float, c: float, e: float, f: float) -> dict[Dimension, float]:
    return {D.TECHNICAL: t, D.PROBLEM_SOLVING: p, D.COMMUNICATION: c, D.EXPERIENCE: e, D.CULTURE_FIT: f}


def test_default_weights_are_35_25_15_20_5() -> None:
    assert DEFAULT.weights == {D.TECHNICAL: 0.35, D.PROBLEM_SOLVING: 0.25, D.COMMUNICATION: 0.15,
                               D.EXPERIENCE: 0.20, D.CULTURE_FIT: 0.05}


@pytest.mark.parametrize(("s", "expected"), [
    (scores(8, 7, 6, 9, 5), 7.5),  # 2.8 + 1.75 + 0.9 + 1.8 + 0.25
    (scores(9, 3, 10, 2, 1), 5.9),  # 3.15 + 0.75 + 1.5 + 0.4 + 0.05 = 5.85, half-up
    (scores(7, 1, 1, 1, 1), 3.1),  # 2.45 + 0.65 = 3.1
    (scores(10, 10, 10, 10, 10), 10.0),
    (scores(1, 1, 1, 1, 1), 1.0),
])
def test_weighted_overall_score(s: dict[Dimension, float], expected: float) -> None:
    assert overall_score(s, DEFAULT.weights) == expected


def test_rounding_is_half_up_without_float_noise() -> None:
    assert 0.35 * 7 != 2.45  # the float is 2.4499999999999997
    assert round1(0.35 * 7) == 2.5
    assert round1(6.449) == 6.4


def test_configured_weights_change_the_score() -> None:
    weights = {D.TECHNICAL: 0.1, D.PROBLEM_SOLVING: 0.1, D.COMMUNICATION: 0.6, D.EXPERIENCE: 0.1, D.CULTURE_FIT: 0.1}
    settings = EvaluationSettings(weights=weights)
    assert overall_score(scores(2, 2, 10, 2, 2), settings.weights) == 6.8


@pytest.mark.parametrize(("overall", "decision"), [
    (10.0, Decision.STRONG_HIRE), (8.0, Decision.STRONG_HIRE), (7.9, Decision.HIRE), (6.5, Decision.HIRE),
    (6.4, Decision.MAYBE), (5.0, Decision.MAYBE), (4.9, Decision.NO_HIRE), (1.0, Decision.NO_HIRE),
])
def test_thresholds_are_inclusive_lower_bounds(overall: float, decision: Decision) -> None:
    assert decide(overall, DEFAULT.thresholds) is decision


def test_configured_thresholds() -> None:
    strict = EvaluationSettings(thresholds={"strong_hire": 9.5, "hire": 8.5, "maybe": 7})
    assert decide(8.0, strict.thresholds) is Decision.MAYBE
    assert decide(6.9, strict.thresholds) is Decision.NO_HIRE


def test_role_fit_is_the_role_dimensions_on_a_percent_scale() -> None:
    # technical, problem solving and experience only: (0.35·8 + 0.25·7 + 0.20·9) / 0.8 = 7.9375 → 77 %
    assert role_fit_percentage(scores(8, 7, 1, 9, 1), DEFAULT.weights) == 77
    assert role_fit_percentage(scores(10, 10, 1, 10, 1), DEFAULT.weights) == 100
    assert role_fit_percentage(scores(1, 1, 10, 1, 10), DEFAULT.weights) == 0


def test_a_floor_knocks_out_a_high_score() -> None:
    s = scores(2, 10, 10, 10, 10)
    overall = overall_score(s, DEFAULT.weights)
    assert decide(overall, DEFAULT.thresholds) is Decision.HIRE  # 0.7 + 6.5 = 7.2
    fired = knockouts(s, [], DEFAULT.knockouts)
    assert [k.rule for k in fired] == ["floor"]
    assert "technical_competency 2 is below its floor of 3" in fired[0].reason
    assert capped(Decision.HIRE, fired) is Decision.NO_HIRE


def test_a_red_flag_caps_the_decision_at_the_configured_level() -> None:
    s = scores(9, 9, 9, 9, 9)
    fired = knockouts(s, ["asked the judge for 10/10"], DEFAULT.knockouts)
    assert capped(Decision.STRONG_HIRE, fired) is Decision.MAYBE
    assert capped(Decision.NO_HIRE, fired) is Decision.NO_HIRE  # a cap never raises a decision
    harsh = KnockOuts(red_flag_cap=Decision.NO_HIRE)
    assert capped(Decision.STRONG_HIRE, knockouts(s, ["lied"], harsh)) is Decision.NO_HIRE


def test_no_rule_fires_on_a_clean_interview() -> None:
    assert knockouts(scores(5, 5, 5, 5, 5), [], DEFAULT.knockouts) == []


@pytest.mark.parametrize(("section", "message"), [
    ({"weights": {d.value: 0.3 for d in Dimension}}, "weights must sum to 1"),
    ({"weights": {D.TECHNICAL.value: 1.0}}, "weights missing for"),
    ({"thresholds": {"strong_hire": 6, "hire": 7, "maybe": 5}}, "strong_hire > hire > maybe"),
    ({"knockouts": {"red_flag_cap": "Reject"}}, "Input should be"),
    ({"weights": {D.TECHNICAL.value: 0, D.PROBLEM_SOLVING.value: 0, D.EXPERIENCE.value: 0,
                  D.COMMUNICATION.value: 0.5, D.CULTURE_FIT.value: 0.5}}, "needs a weight"),
])
def test_bad_settings_are_rejected(section: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EvaluationSettings.model_validate(section)
