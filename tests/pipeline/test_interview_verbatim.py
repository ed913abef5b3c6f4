"""Guided mode with `phrasing: verbatim`: the code speaks every question, the LLM only acknowledges, and junk is cut.

The scripted "LLM" misbehaves the way a 0.5B model does: it parrots its instructions, asks and answers questions of
its own, fails. The candidate types; the agent speaks through the OpenAI TTS plugin to the scripted server, so what
the TTS was asked to say can be held against the transcript.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.voice.events import UserInputTranscribedEvent
from livekit.plugins import openai

from engine.phases import Phase
from engine.transcript import Speaker
from pipeline import acknowledge
from pipeline.audio_io import WavFileOutput
from pipeline.providers import ProviderStack
from pipeline.session import InterviewSession, InterviewSetup
from tests.pipeline.conftest import scripted_llm, short_settings, text_profile
from tests.pipeline.test_audio_turn import wait_until
from tests.pipeline.test_interview_tools import assert_persisted, elapse, go_quiet
from tests.support.openai_server import Reply, ScriptedOpenAI, tone_wav

INTRO = "Hello! My name is Grace Hopper. I'm applying for the backend developer role, with about three years of work."
LONG = "In my last project I owned the billing service end to end, from the schema to the on-call rota and the alerts."
REPEAT = "Sorry, could you repeat the question?"
ASKS = "How does the team share the on-call work?"

PARROT = ("Hello, Ada Novak! This interview will last approximately 22 minutes. Please introduce yourself, then say in "
          "one short sentence that you are moving on to experience, and ask: Tell me about a complex project.")
GOOD = "Thanks, that gives me a clear picture."
# what the model says for each acknowledgement it is asked for, in order
SCRIPT = [
    Reply(text=PARROT),  # -> dropped
    Reply(text="Can you tell me more about that? I led the migration myself."),  # a question, answered -> dropped
    Reply(text=f"{GOOD} What was the hardest part? It was the schema."),  # -> the first sentence only
    Reply(text=GOOD),  # opens like last time -> a neutral alternative instead
    Reply(text="Reply with a short acknowledgement, then put this question to the candidate, word for word"),
    Reply(text="For example, I would use canary deployments to limit the blast radius."),  # its own answer -> dropped
    Reply(status=500),  # the LLM fails -> no acknowledgement
    Reply(text="Understood, many thanks.", first_token_delay=1.0),  # too slow -> a neutral one instead
]
JUNK = ["Ada Novak", "yourself, then say", "moving on to experience", "tell me more", "migration", "hardest part",
        "canary", "word for word", "acknowledgement", "many thanks"]


def verbatim_setup(banks, prompts) -> InterviewSetup:
    profile = text_profile(guided=True).model_copy(update={"phrasing": "verbatim"})
    return InterviewSetup(settings=short_settings(), banks=banks, prompts=prompts, profile=profile)


def spoken_stack(base_url: str) -> ProviderStack:
    tts = openai.TTS(base_url=base_url, api_key="test", model="tts-1", voice="coral", response_format="wav")
    return ProviderStack(llm=scripted_llm(base_url), tts=tts)


def squash(text: str) -> str:
    return " ".join(text.split())


async def test_the_code_speaks_every_question_and_the_llm_only_acknowledges(
    real_banks, templates, clock, journal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(acknowledge, "TIMEOUT", 0.5)
    replies = iter(SCRIPT)

    def model(body: dict[str, Any]) -> Reply:
        warm_up = json.dumps("Hello.") in body["messages"][0]["content"]  # while the greeting is said
        return Reply(text="Thank you.") if warm_up else next(replies)

    async with ScriptedOpenAI(model) as server:
        interview = InterviewSession(verbatim_setup(real_banks, templates), spoken_stack(server.base_url), journal,
                                     clock=clock)
        interview.session.output.audio = WavFileOutput(tmp_path / "agent.wav")
        engine = interview.engine

        async def answer(text: str) -> str:
            await interview.session.run(user_input=text)
            await assert_persisted(interview, journal)
            return interview.turns[-1].text

        await interview.start(capture_run=True)
        intro_question = engine.current_question
        assert intro_question is not None and engine.phase is Phase.INTRODUCTION
        assert interview.turns[0].text.startswith("Hello, and welcome! I'm SIMA")
        assert interview.turns[0].text.endswith(intro_question.text)  # the greeting asks the bank's question

        said = await answer(INTRO)  # the parroting acknowledgement is dropped
        question = engine.current_question
        assert engine.phase is Phase.EXPERIENCE and question is not None
        assert said == f"Let's move on to your experience. {question.text}"

        said = await answer("Sure.")  # a short answer: the bank's follow-up, word for word
        assert said == question.follow_ups[0]
        said = await answer(REPEAT)  # asked again, no step taken and nothing acknowledged
        assert said == f"Of course. {question.follow_ups[0]}" and len(engine.asked_in_phase()) == 1

        said = await answer(LONG)  # the first sentence of a good acknowledgement, then the next question
        question = engine.current_question
        assert question is not None and said == f"{GOOD} {question.text}"

        # the phase's time runs out: said when the candidate has gone quiet, with the next phase's first question
        turns = len(interview.turns)
        await elapse(interview, clock, engine.phase_remaining() + 1)
        assert len(interview.turns) == turns
        await go_quiet(interview)
        question = engine.current_question
        assert engine.phase is Phase.TECHNICAL and question is not None
        assert interview.turns[-1].text == f"We're out of time for this part, so let's move on to some technical " \
                                           f"questions. {question.text}"

        said = await answer("Sure.")  # never the same acknowledgement twice in a row: another one instead
        assert question.follow_ups and said == f"{acknowledge.ALTERNATIVES[0]} {question.follow_ups[0]}"
        for _ in range(4):  # the second technical question, then one each in behavioral and scenario
            current = engine.current_question
            assert current is not None
            await answer("To sum up: " + "; ".join(current.expected_points) + ".")  # complete: no follow-up
        assert engine.phase is Phase.WRAP_UP
        said = await answer(ASKS)  # a question in the wrap-up goes to the hiring team, and the interview ends
        assert "hiring team" in said and said.endswith("Goodbye!") and engine.ended
        record = await interview.wait_finished()
        await interview.flush()

    assert record is not None and record.end_reason == "completed"
    agent_turns = [t.text for t in record.turns if t.speaker is Speaker.AGENT]
    # every question the engine asked was said exactly as the bank writes it; none of the model's junk was
    for asked in engine.snapshot().asked:
        bank_question = real_banks.question(asked.id)
        assert bank_question is not None and any(bank_question.text in t for t in agent_turns), asked.id
    assert not [j for j in JUNK if any(j.lower() in t.lower() for t in agent_turns)]
    assert sum(GOOD in t for t in agent_turns) == 1
    # the slow acknowledgement was not waited for: the neutral one after the last one said stood in for it
    assert sum(t.startswith(acknowledge.neutral(acknowledge.ALTERNATIVES[0])) for t in agent_turns) == 1
    # the transcript is what the TTS was asked to say, word for word
    assert squash(" ".join(r["input"] for r in server.speech_requests)) == squash(" ".join(agent_turns))
    assert [t.text for t in journal.read(record.interview_id).turns] == [t.text for t in record.turns]
    # the model was only ever asked for an acknowledgement, with the candidate's words as quoted data
    assert len(server.requests) == len(SCRIPT) + 1  # and one to warm the model up
    assert all(len(b["messages"]) == 1 and b["max_tokens"] == acknowledge.MAX_TOKENS for b in server.requests)
    assert any(json.dumps(INTRO) in b["messages"][0]["content"] for b in server.requests)


async def test_the_acknowledgement_is_drafted_while_the_candidate_speaks(real_banks, templates, clock, journal,
                                                                         tmp_path: Path) -> None:
    async with ScriptedOpenAI(lambda body: Reply(text="Nice to meet you, thank you.")) as server:
        interview = InterviewSession(verbatim_setup(real_banks, templates), spoken_stack(server.base_url), journal,
                                     clock=clock)
        interview.session.output.audio = WavFileOutput(tmp_path / "agent.wav")
        await interview.start(capture_run=True)
        warmed = len(server.requests)  # the warm-up while the greeting is said

        def heard(text: str) -> None:  # an interim transcript: early transcription's first pieces
            interview.session.emit("user_input_transcribed",
                                   UserInputTranscribedEvent(transcript=text, is_final=False, language="en"))

        first = INTRO.split(" I'm applying")[0]
        heard(first)
        await wait_until(lambda: len(server.requests) == warmed + 1)
        most = INTRO.split(", with")[0]
        heard(most)  # the next piece: the draft in hand was written for a quarter of it or more, so it stands
        await asyncio.sleep(0.3)
        await interview.session.run(user_input=INTRO)  # the answer is over
        question = interview.engine.current_question
        said = interview.turns[-1].text
        await interview.aclose()

    drafts = server.requests[warmed:]
    assert len(drafts) == 1 and json.dumps(first) in drafts[0]["messages"][0]["content"]
    # the draft for the first piece was said, with no request for the rest or once the answer was over
    assert question is not None and said == f"Nice to meet you, thank you. Let's move on to your experience. " \
                                            f"{question.text}"


async def test_an_acknowledgement_is_waited_for_only_when_its_tag_is_wanted(real_banks, templates, clock, journal,
                                                                           tmp_path: Path) -> None:
    slow = acknowledge.PATIENCE + 2.0
    asked: list[float] = []  # when each acknowledgement was asked for
    spoken: list[tuple[float, str]] = []  # when the TTS was asked to say what

    def model(body: dict[str, Any]) -> Reply:
        if json.dumps("Hello.") in body["messages"][0]["content"]:  # the warm-up
            return Reply(text="Thank you.")
        asked.append(time.perf_counter())
        return Reply(text="[on topic] Thanks, that is clear.", first_token_delay=slow)

    def speaker(text: str) -> bytes:
        spoken.append((time.perf_counter(), text))
        return tone_wav(text)

    async with ScriptedOpenAI(model, speaker=speaker) as server:
        interview = InterviewSession(verbatim_setup(real_banks, templates), spoken_stack(server.base_url), journal,
                                     clock=clock)
        interview.session.output.audio = WavFileOutput(tmp_path / "agent.wav")
        await interview.start(capture_run=True)
        await interview.session.run(user_input=INTRO)  # shares words with the question: no tag is wanted
        introduced = interview.turns[-1].text
        question = interview.engine.current_question
        assert question is not None and interview.engine.wants_judgement("It went fine, all in all.")
        await interview.session.run(user_input="It went fine, all in all.")  # shares none: the tag is wanted
        judged = interview.turns[-1].text
        await interview.aclose()

    # the model's words for the introduction came too late: a neutral acknowledgement said at once stood in
    assert introduced.startswith(f"{acknowledge.ALTERNATIVES[0]} Let's move on to your experience.")
    # the engine weighed the tag, so the step waited for it; a holding word was said meanwhile, long before the
    # model's reply, and the model's acknowledgement was left out
    assert judged.startswith("Alright. ") and judged.removeprefix("Alright. ") in question.follow_ups
    said_at = next(t for t, text in spoken if text.strip() == "Alright.")
    assert said_at < asked[-1] + slow - 1.0  # PATIENCE after the request, with a second to spare for a busy machine
    assert not any("clear" in text for _, text in spoken)
