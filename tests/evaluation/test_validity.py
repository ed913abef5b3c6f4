"""The validity benchmark (bench/validity.py) and its labelled set, run with the lexical judge on the scripted
server; the real local judge runs in `make bench`, and once here under `local_models`."""

from __future__ import annotations

import json

import pytest

from bench.validity import DATA, Label, labels, lexical_endpoint, measure, pairwise_order
from evaluation.features import without_injections
from sima.context import load_context
from tests.evaluation.helpers import ROOT


def test_the_labelled_set_covers_four_roles_three_levels_and_the_hard_cases() -> None:
    marks = labels()
    assert len(marks) >= 16
    roles = {m.role for m in marks}
    assert len(roles) >= 4
    for role in roles:
        assert {m.level for m in marks if m.role == role and m.twin_of is None} == {"strong", "medium", "weak"}
    ids = {m.id for m in marks}
    assert {"backend-fluent-wrong", "data-terse-correct", "frontend-rambling"} <= ids
    twins = [m for m in marks if m.twin_of]
    assert len(twins) >= 2


def test_injection_twins_differ_only_by_the_spoken_instruction() -> None:
    for m in [m for m in labels() if m.twin_of]:
        with_it = json.loads((DATA / f"{m.id}.json").read_text())["turns"]
        without = json.loads((DATA / f"{m.twin_of}.json").read_text())["turns"]
        changed = [(a["text"], b["text"]) for a, b in zip(with_it, without, strict=True) if a["text"] != b["text"]]
        assert len(changed) == 1
        said, plain = changed[0]
        assert without_injections(said) == plain and len(said) > len(plain)


def test_pairwise_order_counts_only_same_role_pairs_of_different_levels() -> None:
    marks = [Label("a", "r", "strong"), Label("b", "r", "weak"), Label("c", "s", "weak"),
             Label("d", "r", "weak", twin_of="b")]
    assert pairwise_order({"a": 7.0, "b": 3.0, "c": 9.0, "d": 9.0}, marks) == (1.0, [])
    assert pairwise_order({"a": 3.0, "b": 7.0, "c": 9.0, "d": 9.0}, marks) == (0.0, ["a < b"])


async def test_the_benchmark_reports_every_figure() -> None:
    app = load_context(ROOT / "config.yaml")
    async with lexical_endpoint() as endpoint:
        figures = await measure(app, endpoint, retest=["data-medium"], runs=2, long_interview=False)
    assert figures["judge"] == "lexical-baseline" and figures["transcripts"] == len(labels())
    assert 0 <= figures["pairwise_order_accuracy"] <= 1 and 0 <= figures["decision_band_accuracy"] <= 1
    # the instruction never reaches the judge, so a deterministic judge scores the twins identically
    assert figures["injection_twin_mean_change"] == 0.0
    assert figures["retest_spreads"] == {"data-medium": 0.0} and figures["long_interview_judge_s"] is None
    assert set(figures["targets_met"]) == {"pairwise_order", "band", "twin_change", "retest_spread",
                                           "long_interview_s"}
    assert figures["scores"]["data-strong"][0] > figures["scores"]["data-weak"][0]


@pytest.mark.local_models
async def test_the_local_judge_ranks_a_strong_answer_set_above_a_weak_one_and_ignores_an_injection() -> None:
    """The local profile's 1.5B judge on llama.cpp, on one role's strong, weak and weak-with-injection transcripts."""
    from sima.services import judge_endpoint

    app = load_context(ROOT / "config.yaml")
    folder = ROOT / "bench" / "data" / "validity"
    subset = {"data-strong", "data-weak", "data-weak-injection"}
    async with judge_endpoint(app.config) as endpoint:
        figures = await measure(app, endpoint, retest=[], runs=1, long_interview=False,
                                only=subset, folder=folder)
    scores = figures["scores"]
    assert scores["data-strong"][0] > scores["data-weak"][0]
    assert abs(scores["data-weak"][0] - scores["data-weak-injection"][0]) <= 0.5
