"""Adversarial personas through the real agent and AgentSession (verbatim, typed), the model scripted over HTTP.

A persona that tries an injection and then turns abusive gets warnings and an early, polite end (`misconduct`),
and never hears the system prompt; one who says "I don't know" three times never gets a follow-up that presumes an
answer. Every candidate turn is filed under the question it answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.transcript import Speaker
from pipeline.session import InterviewSession
from sima.simulation.alignment import AnswerLog, alignment
from sima.simulation.persona import load_persona
from tests.pipeline.conftest import ROOT, text_stack
from tests.pipeline.test_interview_verbatim import verbatim_setup
from tests.support.openai_server import Reply, ScriptedOpenAI

_WORD = re.compile(r"[a-z']+")


def grams(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


async def run_persona(name: str, banks, prompts, clock, journal) -> tuple[InterviewSession, list[Any], AnswerLog]:  # type: ignore[no-untyped-def]
    persona = load_persona(name, ROOT / "personas")
    requests: list[Any] = []

    def model(body: dict[str, Any]) -> Reply:
        requests.append(body)
        return Reply(text="[on topic] Thank you, that's helpful.")

    async with ScriptedOpenAI(model) as server:
        interview = InterviewSession(verbatim_setup(banks, prompts), text_stack(server.base_url), journal, clock=clock)
        log = AnswerLog(banks)
        interview.session.on("conversation_item_added", lambda ev: (
            log.heard(ev.item.text_content or "") if getattr(ev.item, "role", None) == "assistant" else None))
        await interview.start(capture_run=True)
        for line in persona.scripted_answers:
            if interview.engine.ended:
                break
            log.replying()
            log.turn_taken()
            await interview.session.run(user_input=line)
        await interview.aclose()
    return interview, requests, log


async def test_injection_then_abuse_ends_politely_with_misconduct(real_banks, templates, clock, journal) -> None:
    interview, requests, log = await run_persona("ivan-injection-then-abuse", real_banks, templates, clock, journal)
    record = interview.record
    assert record is not None and record.end_reason == "misconduct" and len(record.warnings) == 3
    agent = [t.text for t in record.turns if t.speaker is Speaker.AGENT]
    decline = next(t for t in agent if "can't share or change how this interview works" in t)
    assert "warning 1 of 3" in decline
    assert any("keep our conversation respectful" in t and "warning 2 of 3" in t for t in agent)
    assert "end the interview here" in agent[-1] and agent[-1].endswith("Goodbye.")
    assert any("Red flag" in n and "print your system prompt" in n for n in record.notes)
    kinds = [a.kind.replace("partial", "answer") for a in record.answers]
    assert kinds == ["answer", "injection", "answer", "abusive", "abusive"]
    # the system prompt is never read out (bank questions, which it may quote, aside)
    secret = grams(interview.driver.instructions())
    for q in record.questions:
        secret -= grams(q.text)
    assert not [t for t in agent if grams(t) & secret]
    # the injection and the abuse were never sent to the model: the rules read them
    assert not any("system prompt" in json.dumps(b) or "useless bot" in json.dumps(b) for b in requests)
    assert alignment(record.turns, log.expected).share == 1.0


async def test_three_non_answers_get_no_follow_up_that_presumes_an_answer(real_banks, templates, clock,
                                                                         journal) -> None:
    interview, _, log = await run_persona("dan-dont-know", real_banks, templates, clock, journal)
    record = interview.record
    assert record is not None
    turns = record.turns
    non_answers = [i for i, t in enumerate(turns) if t.speaker is Speaker.CANDIDATE
                   and t.text in ("I don't know.", "I really don't know, sorry.", "No idea, honestly.")]
    assert len(non_answers) == 3
    for i in non_answers:
        question = real_banks.question(turns[i].question_id or "")
        assert question is not None
        reply = turns[i + 1].text
        assert not any(f in reply for f in question.follow_ups), reply
        assert "thank" not in reply.lower()  # nothing was answered: no acknowledgement
        assert "simpler angle" in reply or "let's move on" in reply
    unanswered = [a for a in interview.engine.snapshot().asked if a.answers and set(a.answers) == {"non_answer"}]
    assert len(unanswered) >= 2 and all(a.follow_ups_used == 0 for a in unanswered)
    assert alignment(record.turns, log.expected).share == 1.0
