"""One answer's score: code combines the judge's small judgements (checked against the candidate's words) with
what it counts."""

from __future__ import annotations

import pytest

from evaluation.answers import combine, judged, needs_judge, unjudged
from evaluation.exchanges import Exchange, split
from evaluation.judge import AnswerJudgement
from evaluation.scoring import round1
from evaluation.settings import AnswerScoring
from tests.evaluation.helpers import EXCHANGES, answer_json, make_record, shipped

S = AnswerScoring()


def exchange(answer: str, n: int = 2) -> Exchange:
    """The rate-limiting question (exchange `n`) answered with `answer`."""
    answers = [a for _, _, a in EXCHANGES]
    answers[n] = answer
    return split(make_record(answers=answers), shipped())[n]


def reply(*args, **kwargs) -> AnswerJudgement:  # type: ignore[no-untyped-def]
    return AnswerJudgement.model_validate_json(answer_json(*args, **kwargs))


GOOD = ("I would use a token bucket per API key. The counters live in Redis with an atomic Lua script so every "
        "server shares them. Over the limit we return 429 with a Retry-After header.")


def test_the_score_rises_with_coverage_anchor_and_features() -> None:
    base = combine(coverage=0.2, anchor=4, features=0.2, misconceptions=0, settings=S)
    assert combine(coverage=0.8, anchor=4, features=0.2, misconceptions=0, settings=S) > base
    assert combine(coverage=0.2, anchor=8, features=0.2, misconceptions=0, settings=S) > base
    assert combine(coverage=0.2, anchor=4, features=0.9, misconceptions=0, settings=S) > base
    assert combine(coverage=1.0, anchor=10, features=1.0, misconceptions=0, settings=S) == 10.0
    assert combine(coverage=0.0, anchor=1, features=0.0, misconceptions=0, settings=S) == 1.0


def test_a_stated_misconception_costs_points_and_caps_the_answer() -> None:
    assert combine(coverage=1.0, anchor=10, features=1.0, misconceptions=1, settings=S) == S.misconception_cap
    assert combine(coverage=0.4, anchor=5, features=0.5, misconceptions=2, settings=S) == 1.0


def test_covered_points_need_the_candidates_words_about_that_point() -> None:
    ex = exchange(GOOD)
    result = judged(ex, [reply(7, points=[
        (1, "a token bucket per API key", "covered"),             # true and about the point
        (2, "a shared counter store such as Redis", "covered"),   # the rubric's words, not the candidate's
        (3, "Over the limit we return 429", "covered"),           # true, but about point 4, not point 3
        (4, "we return 429 with a Retry-After header", "partly"),
    ])], S)
    assert [p.status for p in result.points] == ["covered", "missing", "missing", "partly", "missing"]
    assert result.points[0].evidence[0].quote == "a token bucket per API key"
    assert result.unverified_quotes == 2
    assert result.coverage == pytest.approx((1 + 0.5) / 5, abs=0.01)


def test_a_fluent_wrong_answer_is_capped_by_its_misconception() -> None:
    wrong = ("Each server keeps its own in-memory counter per user, and because the load balancer spreads requests "
             "evenly, every server's local limit adds up to the global limit, so you don't need a shared store.")
    ex = exchange(wrong)
    # a judge that is fooled into "covered" but names the misconception, in the rubric's words
    fooled = reply(9, points=[(2, "every server's local limit adds up to the global limit", "covered")],
                   misconceptions=[(1, "per-server in-memory counters enforce a global limit across several servers "
                                       "without a shared store")])
    result = judged(ex, [fooled], S)
    assert [m.misconception for m in result.misconceptions] == [ex.rubric.misconceptions[0]]
    assert result.score is not None and result.score <= S.misconception_cap


def test_a_misconception_the_candidate_never_stated_is_dropped() -> None:
    result = judged(exchange(GOOD), [reply(7, misconceptions=[(1, "each server keeps its own in-memory counter")])],
                    S)
    assert result.misconceptions == [] and result.unverified_quotes == 1


def test_samples_give_a_mean_a_spread_and_the_majority_status() -> None:
    ex = exchange(GOOD)
    covered = (1, "a token bucket per API key", "covered")
    result = judged(ex, [reply(4, points=[covered]), reply(8, points=[covered]), reply(6)], S)
    assert result.sample_scores[0] < result.sample_scores[1]  # same coverage, higher anchor
    assert result.score == pytest.approx(sum(result.sample_scores) / 3, abs=0.05)
    assert result.spread > 0 and result.anchor_scores == [4, 8, 6]
    assert result.points[0].status == "covered"  # two samples of three
    assert result.rationale == "a reason"


def test_i_dont_know_is_evidence_scored_without_a_judge() -> None:
    ex = exchange("Honestly, I don't know.")
    assert not needs_judge(ex, S)
    result = unjudged(ex, S)
    assert (result.status, result.score) == ("dont_know", 1.0)
    assert all(p.status == "missing" for p in result.points)


@pytest.mark.parametrize("garbled", ["", "uh", "[inaudible] mm"])
def test_a_garbled_or_empty_answer_is_no_evidence(garbled: str) -> None:
    ex = exchange(garbled)
    assert not needs_judge(ex, S)
    result = unjudged(ex, S)
    assert (result.status, result.score) == ("no_evidence", None)


def test_a_small_judges_scores_are_stretched_by_its_measured_calibration() -> None:
    ex = exchange(GOOD)
    covered = [(1, "a token bucket per API key", "covered")]
    plain = judged(ex, [reply(5, points=covered)], S)
    stretched = judged(ex, [reply(5, points=covered)], S, stretch=1.8)
    assert plain.score is not None and stretched.score is not None
    assert stretched.score == round1(1 + 1.8 * (plain.score - 1)) and stretched.sample_scores == [stretched.score]
