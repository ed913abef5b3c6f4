"""Answer alignment and the persona's expectations (fast)."""

from __future__ import annotations

import pytest

from engine.transcript import Speaker, Turn
from engine.yamlsrc import SourceError
from sima.simulation.alignment import AnswerLog, alignment
from sima.simulation.persona import load_persona
from tests.conftest import ROOT


def test_each_turn_is_held_against_the_question_the_persona_heard(shipped_banks) -> None:
    first = shipped_banks.question("gen-common-intro-01")
    second = shipped_banks.question("be-beh-01")
    assert first is not None and second is not None
    log = AnswerLog(shipped_banks)
    log.heard(f"Hello, and welcome! {first.text}")
    log.replying()
    log.turn_taken()
    log.heard(f"Thanks. Let's move on. {second.text}")
    log.replying()
    log.heard("Just so you know, we're nearly at time.")  # no question in it: still answering the same one
    log.turn_taken()
    log.turn_taken()  # the same reply, cut in two by a pause: both parts answer it
    turns = [Turn(index=0, speaker=Speaker.AGENT, text="..."),
             Turn(index=1, speaker=Speaker.CANDIDATE, text="I'm Ada.", question_id=first.id),
             Turn(index=2, speaker=Speaker.AGENT, text="..."),
             Turn(index=3, speaker=Speaker.CANDIDATE, text="We had an outage", question_id=second.id),
             Turn(index=4, speaker=Speaker.CANDIDATE, text="and I fixed it.", question_id=first.id)]
    result = alignment(turns, log.expected)
    assert (result.aligned, result.answers, result.share) == (2, 3, 0.6667)
    assert [(m.turn, m.answering, m.filed_under) for m in result.misfiled] == [(4, second.id, first.id)]
    # a follow-up the persona heard answers its own question
    log.heard(second.follow_ups[0])
    log.replying()
    assert log._answering == second.id


def test_scripted_personas_give_one_expected_kind_per_line(tmp_path) -> None:
    for path in sorted((ROOT / "personas").glob("*.yaml")):
        persona = load_persona(str(path), ROOT / "personas")
        assert not persona.expect or len(persona.expect) == len(persona.scripted_answers)
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "personas" / "dan-dont-know.yaml").read_text().replace(
        "expect: [answer, non_answer,", "expect: [non_answer,"))
    with pytest.raises(SourceError, match="give one per answer"):
        load_persona(str(bad), ROOT / "personas")
