"""What the banks carry for the judge: misconceptions on every technical question and a generic rubric per phase,
validated (`file:line: field: message`) and linted, and bank questions recognised by their words."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bank_lint import lint_banks
from engine.banks import load_banks
from engine.phases import PHASE_ORDER, Phase
from engine.settings import InterviewSettings
from engine.yamlsrc import SourceError
from tests.evaluation.helpers import shipped

RUBRIC = "        rubric: {1: none, 5: some, 10: all}\n"


def bank(tmp_path: Path, question_extra: str = "", bank_extra: str = "") -> Path:
    (tmp_path / "generic.yaml").write_text(
        "role: generic\nname: General\n" + bank_extra + "common:\n  technical:\n"
        "    - id: g-tech-1\n      text: How does a hash map work?\n"
        "      expected_points: [hashes keys into buckets]\n      rubric: {1: no idea, 5: partly, 10: fully}\n"
        + question_extra)
    return tmp_path


def test_every_shipped_technical_question_has_misconceptions_and_every_phase_a_generic_rubric() -> None:
    banks = shipped()
    technical = [q for b in banks.banks.values() for loc, q in b.all_questions()
                 if (loc[1] if loc[0] == "common" else loc[2]) == Phase.TECHNICAL.value]
    assert len(technical) >= 200 and all(q.misconceptions for q in technical)
    for phase in PHASE_ORDER:
        rubric = banks.phase_rubric("backend", phase)
        assert rubric is not None and rubric.expected_points and sorted(rubric.rubric) == [1, 5, 10]
    findings = [str(f) for f in lint_banks(banks, InterviewSettings())]
    assert not [f for f in findings if "misconceptions" in f or "phase_rubrics" in f]


def test_an_empty_misconception_is_an_error_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        load_banks(bank(tmp_path, "      misconceptions: [\"  \"]\n"))
    [problem] = exc.value.problems
    assert str(problem).startswith(f"{tmp_path / 'generic.yaml'}:9: ")
    assert "misconceptions" in str(problem) and "must not be empty" in str(problem)


def test_a_phase_rubric_needs_the_three_anchors(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        load_banks(bank(tmp_path, bank_extra="phase_rubrics:\n  scenario:\n    expected_points: [a plan]\n"
                                             "    rubric: {1: none, 10: all}\n"))
    assert "phase_rubrics.scenario.rubric" in str(exc.value.problems[0])
    assert "anchors 1, 5 and 10" in str(exc.value.problems[0])


def test_lint_names_what_the_judge_would_miss(tmp_path: Path) -> None:
    banks = load_banks(bank(tmp_path))
    findings = [f"{f.where}: {f.message}" for f in lint_banks(banks, InterviewSettings())]
    assert "g-tech-1: no misconceptions for the judge (technical question)" in findings
    assert sum("no generic rubric for questions that are not from a bank" in f for f in findings) == 6
    fixed = load_banks(bank(tmp_path, "      misconceptions: [a hash map keeps keys sorted]\n"))
    assert not [f for f in lint_banks(fixed, InterviewSettings()) if "misconceptions" in f.message]


@pytest.mark.parametrize(("said", "qid"), [
    ("Thanks. How would you implement rate limiting for a public API that runs on several servers?",
     "be-mid-tech-06"),
    ("OK, and what happens if two requests with the same key arrive at the same moment?", "be-mid-tech-02"),
    ("Tell me about a time you disagreed with a teammate.", None),  # "Who do you tell?" is too short to match
    ("So how's the weather where you are?", None),
])
def test_questions_are_recognised_by_their_words(said: str, qid: str | None) -> None:
    found = shipped().match_question("backend", said)
    assert (found[0].id if found else None) == qid
