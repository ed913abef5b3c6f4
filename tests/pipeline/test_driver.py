"""The driver on its own (no LiveKit): what each interviewer move does to the engine, what the LLM is told, and
the exact words said under `phrasing: verbatim`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from engine.clock import FakeClock
from engine.events import Event, PhaseEntered, PhaseTimeout, TimeWarning
from engine.interview import InterviewEngine
from engine.introduction_facts import parse_introduction
from engine.phases import Phase
from pipeline.driver import InterviewDriver, InvalidAnswer
from pipeline.settings import ProfileSettings
from tests.pipeline.conftest import short_settings

INTRO = "Hi, I'm Ada Lovelace, a backend developer with five years of experience."


@pytest.fixture
async def started(real_banks, templates):
    async def make(*, guided: bool = False) -> tuple[InterviewDriver, FakeClock]:
        clock = FakeClock()
        engine = InterviewEngine(short_settings(), real_banks, clock)
        await engine.start()
        return InterviewDriver(engine, templates, guided=guided), clock

    return make


async def test_tools_cannot_end_before_the_wrap_up(started) -> None:
    driver, _ = await started()
    await driver.record_profile("Ada", "backend developer", 5)
    await driver.next_question()
    step = await driver.end("completed")
    assert not step.ended and "cannot end yet" in step.say and driver.engine.phase is Phase.INTRODUCTION
    while driver.engine.phase is not Phase.WRAP_UP:
        await driver.next_question()
    step = await driver.end("completed")
    assert step.ended and driver.engine.snapshot().end_reason == "completed"


async def test_a_candidate_may_stop_at_any_time(started) -> None:
    driver, _ = await started()
    step = await driver.end("candidate_request")
    assert step.ended and "Thank the candidate" in step.say
    assert (await driver.next_question()).ended  # asking again after the end only says goodbye again


async def test_tool_arguments_are_validated(started) -> None:
    driver, _ = await started()
    for name, role, years in (("", "backend", 2), ("Ada", "backend", -1), ("Ada", "backend", 99)):
        with pytest.raises(InvalidAnswer):
            await driver.record_profile(name, role, years)
    step = await driver.record_profile("Ada", "astronaut", 2)
    assert "No dedicated question set" in step.say and driver.engine.role == "generic"


async def test_follow_ups_stop_at_the_engine_cap(started) -> None:
    driver, _ = await started()
    await driver.next_question()
    cap = driver.engine.settings.follow_up_cap
    for _ in range(cap):
        assert (await driver.follow_up()).say.startswith(("Ask this follow-up", "Ask one short follow-up"))
    assert (await driver.follow_up()).say.startswith(f"No follow-up: follow-up limit of {cap} reached")


async def test_guided_step_includes_a_timer_that_came_due_meanwhile(started) -> None:
    driver, clock = await started(guided=True)
    engine = driver.engine
    clock.advance(engine.phase_remaining() + engine.settings.grace_seconds + 1)  # nobody polled
    step = await driver.answer_received(INTRO)
    assert engine.phase is Phase.EXPERIENCE and engine.profile.role == "backend"
    question = engine.current_question
    assert question is not None and "moving on to experience" in step.say and question.text in step.say


def test_introductions_are_read_without_an_llm(real_banks) -> None:
    facts = parse_introduction(INTRO, real_banks)
    assert (facts.name, facts.role_text, facts.years) == ("Ada Lovelace", "Backend Developer", 5.0)
    said = "my name is grace and I'm applying for the kernel hacker role, six months in"
    facts = parse_introduction(said, real_banks)
    assert (facts.name, facts.role_text, facts.years) == ("Grace", "kernel hacker", 0.5)


async def test_every_step_has_its_exact_words(started) -> None:
    driver, _ = await started(guided=True)
    engine = driver.engine
    greeting = PhaseEntered(0.0, Phase.INTRODUCTION, None, engine.phase_remaining(), "start")
    opening = await driver.open(greeting)
    first = engine.current_question
    assert first is not None and opening.words.startswith("Hello, and welcome! I'm SIMA")
    assert opening.words.endswith(first.text) and "\n" not in opening.words

    step = await driver.answer_received(INTRO)
    question = engine.current_question
    assert engine.phase is Phase.EXPERIENCE and question is not None and step.acknowledge
    assert step.words == f"Let's move on to your experience. {question.text}"

    warning = TimeWarning(engine.now(), Phase.EXPERIENCE, 30)
    assert (await driver.announce(warning)).words.startswith("Just so you know, we're nearly at time")
    step = await driver.end("candidate_request")
    assert step.ended and not step.acknowledge and "we can stop here" in step.words
    assert step.words.endswith("Goodbye!") and "Ada" not in step.words  # no candidate words are said back


def test_verbatim_phrasing_needs_guided_mode(real_banks, templates) -> None:
    engine = InterviewEngine(short_settings(), real_banks, FakeClock())
    with pytest.raises(ValueError, match="needs guided mode"):
        InterviewDriver(engine, templates, phrasing="verbatim")
    profile = {"stt": {"provider": "openai"}, "llm": {"provider": "openai"}, "tts": {"provider": "openai"}}
    with pytest.raises(ValidationError, match="phrasing: verbatim needs guided: true"):
        ProfileSettings.model_validate({**profile, "phrasing": "verbatim"})
    assert ProfileSettings.model_validate({**profile, "guided": True, "phrasing": "verbatim"}).phrasing == "verbatim"


@pytest.mark.parametrize("forced", [False, True])
async def test_timer_events_held_for_the_answer_become_part_of_the_next_step(started, forced: bool) -> None:
    """The warning and the time up came while the candidate was talking; in guided mode the phase never moves on
    under a question waiting for its answer, not even after the grace: the answer moves it on."""
    driver, clock = await started(guided=True)
    engine = driver.engine
    await driver.open(PhaseEntered(0.0, Phase.INTRODUCTION, None, engine.phase_remaining(), "start"))
    heard: list[Event] = []
    engine.subscribe(heard.append)
    clock.advance(engine.phase_remaining() + (engine.settings.grace_seconds if forced else 0) + 1)
    await engine.poll()
    assert [type(e) for e in heard] == [TimeWarning, PhaseTimeout] and engine.phase is Phase.INTRODUCTION

    step = await driver.answer_received(INTRO, heard)
    question = engine.current_question
    assert engine.profile.name == "Ada Lovelace"  # the answer was to the introduction question
    assert question is not None and len(engine.asked_in_phase()) == 1  # one question, not two
    # one notice: the transition (the warning and the time up are moot by now)
    assert step.words == f"We're out of time for this part, so let's move on to your experience. {question.text}"


async def test_a_question_instead_of_an_answer_takes_no_step(started) -> None:
    driver, _ = await started(guided=True)
    engine = driver.engine
    await driver.open(PhaseEntered(0.0, Phase.INTRODUCTION, None, engine.phase_remaining(), "start"))
    await driver.answer_received(INTRO)
    question = engine.current_question
    assert engine.phase is Phase.EXPERIENCE and question is not None
    step = await driver.answer_received("Do you mean at work, or in side projects too?")
    assert step.words.startswith("That's a fair question") and step.words.endswith(question.text)
    assert not step.acknowledge and engine.asked_in_phase()[-1].follow_ups_used == 0
    step = await driver.answer_received("Sorry, could you repeat that?")
    assert step.words == f"Of course. {question.text}" and len(engine.asked_in_phase()) == 1
    step = await driver.answer_received("Can you give me more details first?")  # asked back twice: moving on
    nxt = engine.current_question
    assert nxt is not None and nxt.id != question.id and step.words == nxt.text and not step.acknowledge
    assert engine.asked_in_phase()[0].follow_ups_used == 0  # no follow-up presumed an answer
    assert engine.asked_in_phase()[0].answers == ["question_back", "repeat_request", "question_back"]
