"""A whole six-phase interview driven by the LLM's tools, against a scripted OpenAI-compatible server on a fake clock.

Phases advance by tool (next_question when a phase's questions are used up) and by timer (a phase's budget and
grace run out); the instructions each request carries match the engine's phase; every turn is in the journal as soon
as it is spoken; the LLM cannot end the interview early; evaluation is triggered exactly once.
"""

from __future__ import annotations

from typing import Any

from livekit.agents.voice.events import UserStateChangedEvent

from engine.clock import FakeClock
from engine.phases import Phase
from engine.transcript import InterviewRecord, Speaker
from pipeline.journal import JournalSink
from pipeline.session import InterviewSession
from tests.pipeline.conftest import make_setup, text_stack
from tests.pipeline.scripted import Call, PhaseWitness, ScriptedInterviewer, last_instruction, phase_of, tools_of
from tests.support.openai_server import ScriptedOpenAI

INTRO = "Hi, I'm Ada Lovelace, a backend developer with five years of experience."
PROFILE = Call("record_profile", {"name": "Ada Lovelace", "role": "backend developer", "years_of_experience": 5})
WANTS_FOLLOW_UP = "We sharded by customer id and kept a directory service for the mapping."
TRIES_TO_END = "I think that's all I have on caching, honestly."
DONE = "No more questions from me, thank you."
TOOLS = {"record_profile", "next_question", "ask_follow_up", "add_note", "flag_behaviour", "end_interview"}


async def elapse(interview: InterviewSession, clock: FakeClock, seconds: float) -> None:
    """Move interview time on and let the agent say whatever the timers made it say."""
    clock.advance(seconds)
    await interview.engine.poll()
    await interview.wait_for_announcements()


async def go_quiet(interview: InterviewSession) -> None:
    """The candidate has said nothing for a while (LiveKit's "away"): let the agent say what it held back."""
    interview.session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="away"))
    await interview.wait_for_announcements()


async def assert_persisted(interview: InterviewSession, journal: JournalSink) -> None:
    await interview.flush()
    saved = journal.read(interview.interview_id)
    assert [t.model_dump() for t in saved.turns] == [t.model_dump() for t in interview.turns]
    assert saved.snapshot is not None and saved.snapshot.state == interview.engine.snapshot().state


async def test_whole_interview_driven_by_tools(real_banks, templates, clock, journal) -> None:
    script = ScriptedInterviewer(plans={
        INTRO: [PROFILE, Call("next_question")],
        WANTS_FOLLOW_UP: [Call("ask_follow_up")],
        TRIES_TO_END: [Call("end_interview", {"reason": "completed"})],
        DONE: [Call("end_interview", {"reason": "completed"})],
    })
    finished: list[InterviewRecord] = []

    async def on_finished(record: InterviewRecord) -> None:
        finished.append(record)

    async with ScriptedOpenAI(PhaseWitness(script)) as llm:
        interview = InterviewSession(make_setup(real_banks, templates), text_stack(llm.base_url), journal,
                                     on_finished=on_finished, clock=clock)
        engine = interview.engine
        llm.responder.engine = engine

        async def answer(text: str) -> Any:
            result = await interview.session.run(user_input=text)
            await assert_persisted(interview, journal)
            return result

        greeting = await interview.start(capture_run=True)
        assert greeting is not None
        greeting.expect.contains_message(role="assistant")
        assert phase_of(llm.requests[-1]) == "Introduction"
        assert set(tools_of(llm.requests[-1])) == TOOLS
        assert "Greet the candidate" in (last_instruction(llm.requests[-1]) or "")

        # introduction: the profile is recorded and validated against the banks, then the first question
        result = await answer(INTRO)
        result.expect.next_event().is_function_call(name="record_profile")
        result.expect.next_event().is_function_call_output()
        result.expect.next_event().is_function_call(name="next_question")
        result.expect.next_event().is_function_call_output()
        result.expect.next_event().is_message(role="assistant")
        assert engine.profile.role == "backend" and engine.profile.level is not None
        assert engine.profile.level.value == "senior"
        intro_q = engine.current_question
        assert intro_q is not None and intro_q.text in (interview.turns[-1].text)

        # by tool: the introduction's one question is asked, next_question moves to the experience phase
        await answer("I build payment APIs in Go and Postgres.")
        assert engine.phase is Phase.EXPERIENCE
        assert phase_of(llm.requests[-1]) == "Experience"  # the tool's reply is written with the new instructions
        assert "moving on to experience" in interview.turns[-1].text
        await answer("I led the migration of our ledger to event sourcing.")
        assert engine.phase is Phase.EXPERIENCE and len(engine.asked_in_phase()) == 2

        # by timer: warning, time up, then the forced move after the grace period; each is spoken at once
        budget = engine.phase_remaining()
        await elapse(interview, clock, budget - engine.settings.time_warning_seconds + 1)
        assert phase_of(llm.requests[-1]) == "Experience"
        assert "nearly over" in (last_instruction(llm.requests[-1]) or "")
        await elapse(interview, clock, engine.settings.time_warning_seconds)
        assert "move on for time" in (last_instruction(llm.requests[-1]) or "")
        assert engine.phase is Phase.EXPERIENCE  # the scripted model ignored the hint: the timer will move on
        await elapse(interview, clock, engine.settings.grace_seconds)
        assert engine.phase is Phase.TECHNICAL
        assert phase_of(llm.requests[-1]) == "Technical"
        tech_q = engine.current_question
        assert tech_q is not None and tech_q.text in (last_instruction(llm.requests[-1]) or "")
        assert engine.snapshot().phases[1].end_reason == "timeout"
        await assert_persisted(interview, journal)

        # follow-ups are asked through the engine, which caps them
        result = await answer(WANTS_FOLLOW_UP)
        result.expect.next_event().is_function_call(name="ask_follow_up")
        output = result.expect.next_event().is_function_call_output().event().item.output
        assert output.startswith(("Ask this follow-up now", "Ask one short follow-up"))
        assert engine.asked_in_phase()[-1].follow_ups_used == 1

        await answer("Consistent hashing with virtual nodes keeps the reshuffle small.")
        assert engine.phase is Phase.TECHNICAL and len(engine.asked_in_phase()) == 2

        # the LLM cannot skip phases: ending now is refused and nothing moves
        result = await answer(TRIES_TO_END)
        result.expect.next_event().is_function_call(name="end_interview")
        refusal = result.expect.next_event().is_function_call_output().event().item.output
        assert "cannot end yet" in refusal and engine.phase is Phase.TECHNICAL and not engine.ended

        for phase in (Phase.BEHAVIORAL, Phase.SCENARIO, Phase.WRAP_UP):
            await answer("Here is my answer, with a concrete example and the outcome.")
            assert engine.phase is phase
            assert phase_of(llm.requests[-1]) == phase.title

        # the wrap-up done, the LLM ends the interview: goodbye, then the session closes by itself
        result = await answer(DONE)
        result.expect.next_event().is_function_call(name="end_interview")
        result.expect.next_event().is_function_call_output()
        goodbye = result.expect.next_event().is_message(role="assistant").event().item.text_content or ""
        assert "Thank the candidate" in goodbye
        record = await interview.wait_finished()
        assert engine.ended and engine.snapshot().end_reason == "completed"

        await interview.aclose()  # closing again triggers nothing more
    assert len(finished) == 1 and finished[0] is record and record is not None
    # every request the LLM got carried the instructions of the phase the engine was in at that moment
    witness = llm.responder
    assert len(witness.seen) == len(llm.requests) > 20 and witness.seen == witness.expected

    # the record holds the whole transcript, in order, each turn with its phase
    turns = record.turns
    assert [t.index for t in turns] == list(range(len(turns)))
    assert turns[0].speaker is Speaker.AGENT and turns[-1].text == goodbye
    assert {t.phase for t in turns} == set(Phase)
    assert all(t.question_id for t in turns if t.speaker is Speaker.CANDIDATE and t.phase is not Phase.INTRODUCTION)
    assert [p.phase for p in record.phases] == list(Phase)
    assert record.role == "backend" and record.candidate_name == "Ada Lovelace"
    assert all(t.metrics is not None and t.metrics.llm_ttft is not None for t in turns if t.speaker is Speaker.AGENT)

    saved = journal.read(record.interview_id)
    assert [t.text for t in saved.turns] == [t.text for t in turns]
    assert saved.interview is not None and saved.interview["config_hash"] == "test-config"
    assert saved.snapshot is not None and saved.snapshot.end_reason == "completed"


async def test_the_record_carries_the_sessions_own_usage(real_banks, templates, clock, journal) -> None:
    script = ScriptedInterviewer(plans={INTRO: [PROFILE, Call("next_question")]})
    async with ScriptedOpenAI(script) as llm:
        interview = InterviewSession(make_setup(real_banks, templates), text_stack(llm.base_url), journal, clock=clock)
        await interview.start(capture_run=True)
        await interview.session.run(user_input=INTRO)
        record = await interview.aclose()
    assert record is not None and record.usage is not None
    [used] = record.usage.models  # a text interview: the LLM only
    assert (used.kind, used.model) == ("llm", "scripted-model")
    # the scripted server reports 10 + 10 tokens a request: the greeting, two tool calls and the reply
    assert used.prompt_tokens == 10 * len(llm.requests) > 0 and used.completion_tokens > 0
    assert InterviewRecord.model_validate_json(record.model_dump_json()).usage == record.usage
