"""Guided mode: the code takes every step through the same engine calls, and the LLM, offered no tools, only phrases.

The greeting puts the first question, the profile comes from the introduction (banks decide the role), short answers
get the bank's follow-up, answers that miss expected points the follow-up aimed at them, a phase's time running out
moves on with the next answer (or at once, when the candidate has gone quiet), and the interview ends after the
wrap-up on its own.
"""

from __future__ import annotations

from engine.coverage import pick_follow_up
from engine.phases import Phase
from engine.transcript import InterviewRecord, Speaker
from pipeline.session import InterviewSession
from tests.pipeline.conftest import make_setup, text_stack
from tests.pipeline.scripted import PhaseWitness, ScriptedInterviewer, last_instruction, phase_of, system_prompt
from tests.pipeline.test_interview_tools import assert_persisted, elapse, go_quiet
from tests.support.openai_server import ScriptedOpenAI

INTRO = "Hello! My name is Grace Hopper. I'm applying for the backend developer role, with about three years of work."
LONG = "In my last project I owned the billing service end to end, from the schema to the on-call rota and the alerts."


async def test_whole_interview_guided(real_banks, templates, clock, journal) -> None:
    finished: list[InterviewRecord] = []

    async def on_finished(record: InterviewRecord) -> None:
        finished.append(record)

    async with ScriptedOpenAI(PhaseWitness(ScriptedInterviewer())) as llm:
        interview = InterviewSession(make_setup(real_banks, templates, guided=True), text_stack(llm.base_url),
                                     journal, on_finished=on_finished, clock=clock)
        engine = interview.engine
        llm.responder.engine = engine

        async def answer(text: str) -> str:
            await interview.session.run(user_input=text)
            await assert_persisted(interview, journal)
            return last_instruction(llm.requests[-1]) or ""

        await interview.start(capture_run=True)

        # the greeting put the introduction question; the answer gives the profile without any tool call
        assert engine.asked_in_phase(Phase.INTRODUCTION)
        said = await answer(INTRO)
        profile = engine.profile
        assert (profile.name, profile.role, profile.years) == ("Grace Hopper", "backend", 3.0)
        assert profile.level is not None and profile.level.value == "mid"
        question = engine.current_question
        assert engine.phase is Phase.EXPERIENCE and "moving on to experience" in said
        assert question is not None and question.text in said
        assert phase_of(llm.requests[-1]) == "Experience"

        # a short answer gets the bank's follow-up; the next, still missing the expected points, one the LLM writes
        # aimed at them (free phrasing); at the cap the interview moves on to the next question
        said = await answer("Sure.")
        assert "put this follow-up to the candidate" in said or "one short follow-up question" in said
        assert engine.asked_in_phase()[-1].follow_ups_used == 1
        said = await answer("Not much more to say.")
        assert "cover what their answer left out" in said and question.expected_points[0] in said
        said = await answer("Nothing else comes to mind.")
        question = engine.current_question
        assert len(engine.asked_in_phase()) == 2 and question is not None
        assert said.endswith(f'"{question.text}"') and "word for word" in said

        # when the phase's time is up, guided mode lets the candidate answer first; if they have gone quiet, it
        # moves on at once and says so
        requests = len(llm.requests)
        await elapse(interview, clock, engine.phase_remaining() + 1)
        assert engine.phase is Phase.EXPERIENCE and len(llm.requests) == requests
        await go_quiet(interview)
        assert engine.phase is Phase.TECHNICAL
        assert phase_of(llm.requests[-1]) == "Technical"
        assert "moving on to technical" in (last_instruction(llm.requests[-1]) or "")

        # an answer that misses the question's expected points gets the follow-up aimed at them; one that covers
        # them goes straight to the next question
        question = engine.current_question
        assert question is not None
        missed = question.expected_points
        said = await answer(LONG)
        aimed = pick_follow_up(question.follow_ups, missed, used=[])
        assert aimed is not None and engine.asked_in_phase()[0].follow_ups_asked == [aimed]
        assert question.follow_ups[aimed] in said
        said = await answer("To sum up: " + "; ".join(question.expected_points) + ".")
        assert engine.phase is Phase.TECHNICAL and len(engine.asked_in_phase()) == 2
        assert engine.asked_in_phase()[0].follow_ups_used == 1 and engine.asked_in_phase()[0].answers[-1] == "answer"

        while not engine.ended:
            await answer(LONG)
        record = await interview.wait_finished()

    assert all("tools" not in body for body in llm.requests), "guided mode offers the LLM no tools"
    assert llm.responder.seen == llm.responder.expected  # each request written for the engine's phase then
    # ...and never tells it to call one
    assert not any("next_question" in system_prompt(b) + (last_instruction(b) or "") for b in llm.requests)
    assert engine.snapshot().end_reason == "completed"
    assert len(finished) == 1 and finished[0] is record and record is not None
    assert [p.phase for p in record.phases] == list(Phase)
    assert record.turns[-1].speaker is Speaker.AGENT and "Thank the candidate" in record.turns[-1].text
    assert [t.text for t in journal.read(record.interview_id).turns] == [t.text for t in record.turns]
