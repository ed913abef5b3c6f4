"""An LLM that fails mid-interview (every retry answered HTTP 500): the agent is never silent. With nothing of a
step to say (the model drives the interview with tools), it apologises and asks the current question again; the
candidate answers again and the interview goes on once the model is back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.clock import FakeClock
from engine.transcript import Speaker
from pipeline.journal import JournalSink
from pipeline.session import InterviewSession
from tests.pipeline.conftest import make_setup, text_stack
from tests.pipeline.scripted import Call, ScriptedInterviewer
from tests.support.openai_server import Reply, ScriptedOpenAI

INTRO = "Hello! My name is Grace Hopper. I'm applying for the backend developer role, with about three years of work."
PROFILE = Call("record_profile", {"name": "Grace Hopper", "role": "backend developer", "years_of_experience": 3})


async def test_a_failing_llm_gets_an_apology_and_the_question_again(shipped_banks, prompts, tmp_path: Path) -> None:
    script = ScriptedInterviewer(plans={INTRO: [PROFILE, Call("next_question")]})
    down = False

    def respond(body: dict[str, Any]) -> Reply:
        return Reply(status=500) if down else script(body)

    async with ScriptedOpenAI(respond) as llm:
        interview = InterviewSession(make_setup(shipped_banks, prompts), text_stack(llm.base_url),
                                     JournalSink(tmp_path), clock=FakeClock())
        script.engine = interview.engine
        await interview.start(capture_run=True)
        await interview.session.run(user_input=INTRO)
        question = interview.engine.current_question
        assert question is not None
        down = True
        failed = await interview.session.run(user_input="I built the payment service and its retries.")
        down = False
        failed.expect.contains_message(role="assistant")
        apology = [t for t in interview.turns if t.speaker is Speaker.AGENT][-1]
        assert apology.text.startswith("Sorry, I lost my train of thought") and question.text in apology.text
        again = await interview.session.run(user_input="I built the payment service and its idempotent retries.")
        again.expect.contains_message(role="assistant")
        await interview.aclose()
    replies = [t for t in interview.turns if t.speaker is Speaker.AGENT]
    assert replies[-1] is not apology and replies[-1].text
