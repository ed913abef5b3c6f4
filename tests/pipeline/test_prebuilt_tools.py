"""The tool-driven interviewer's tools are built once and offered exactly as LiveKit's typed tools would be."""

from __future__ import annotations

import json

from livekit.agents import function_tool, llm

from engine.phases import Phase
from pipeline.agent import InterviewAgent
from pipeline.driver import InterviewDriver, Step
from pipeline.prebuilt_tools import prebuilt_tools
from pipeline.session import InterviewSession
from tests.pipeline.conftest import make_setup, text_stack
from tests.pipeline.scripted import Call, ScriptedInterviewer
from tests.support.openai_server import ScriptedOpenAI

INTRO = "Hi, I'm Ada Lovelace, a backend developer with five years of experience."
METHODS = ("record_profile", "next_question", "ask_follow_up", "add_note", "flag_behaviour", "end_interview")


async def test_each_tool_is_offered_with_the_schema_of_its_typed_signature(real_banks, templates, clock,
                                                                         journal) -> None:
    interview = InterviewSession(make_setup(real_banks, templates), text_stack("http://127.0.0.1:9/v1"), journal,
                                 clock=clock)
    agent = InterviewAgent(InterviewDriver(interview.engine, templates), opening=Step("Greet the candidate."))
    offered = llm.ToolContext(agent.tools).parse_function_tools("openai", strict=True)
    typed = [llm.utils.build_strict_openai_schema(function_tool(getattr(agent, name))) for name in METHODS]
    assert sorted(offered, key=lambda t: t["function"]["name"]) == sorted(typed, key=lambda t: t["function"]["name"])
    assert all(isinstance(tool, llm.RawFunctionTool) for tool in agent.tools)


def test_a_method_is_built_once_for_every_agent(monkeypatch) -> None:
    built = []
    build = llm.utils.build_strict_openai_schema
    monkeypatch.setattr(llm.utils, "build_strict_openai_schema", lambda tool: built.append(tool) or build(tool))

    class Greeter:
        async def greet(self, name: str) -> str:
            """Greet someone."""
            return name

    first, second = (prebuilt_tools(Greeter().greet)[0] for _ in range(2))  # two agents, two instances
    assert len(built) == 1 and first.info.raw_schema == second.info.raw_schema


async def test_arguments_of_the_wrong_type_reach_the_model_as_a_tool_error(real_banks, templates, clock,
                                                                            journal) -> None:
    wrong = Call("record_profile", {"name": "Ada Lovelace", "role": "backend developer", "years_of_experience": "lots"})
    script = ScriptedInterviewer(plans={INTRO: [wrong, Call("next_question")]})
    async with ScriptedOpenAI(script) as server:
        interview = InterviewSession(make_setup(real_banks, templates), text_stack(server.base_url), journal,
                                     clock=clock)
        await interview.start(capture_run=True)
        result = await interview.session.run(user_input=INTRO)
        result.expect.next_event().is_function_call(name="record_profile")
        output = result.expect.next_event().is_function_call_output().event().item
        assert output.is_error and "invalid arguments for `record_profile`: years_of_experience:" in output.output
        result.expect.next_event().is_function_call(name="next_question")
        assert interview.engine.profile.years is None  # nothing half-recorded
        assert interview.engine.phase is Phase.INTRODUCTION
        sent = [m for m in server.requests[-1]["messages"] if m["role"] == "tool"]
        assert "invalid arguments" in json.dumps(sent[0])
        await interview.aclose()
