"""The typed console: a candidate who keeps typing after the goodbye ends the console cleanly, not with a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from engine.transcript import Speaker
from pipeline.console import run_text_console
from pipeline.registry import BuildContext
from pipeline.session import InterviewSetup
from pipeline.settings import ProfileSettings
from pipeline.worker import WorkerRuntime
from tests.pipeline.conftest import short_settings
from tests.support.openai_server import Reply, ScriptedOpenAI

LONG = "In my last project I owned the billing service end to end, from the schema to the on-call rota and the alerts."


def verbatim_profile(base_url: str) -> ProfileSettings:
    return ProfileSettings.model_validate({
        "stt": {"provider": "openai"}, "tts": {"provider": "openai"},
        "llm": {"provider": "openai-compatible", "base_url": base_url, "model": "scripted-model"},
        "guided": True, "phrasing": "verbatim"})


async def test_typing_after_the_goodbye_ends_the_console_cleanly(real_banks, templates, clock, journal) -> None:
    said: list[str] = []
    spoke = asyncio.Event()

    def write(speaker: str, line: str) -> None:
        said.append(line)
        spoke.set()

    async def candidate() -> AsyncIterator[str]:
        # like a simulated candidate: an answer to everything the agent says, the goodbye included, at once
        # (the console used to take that last line to a session closing itself, and crash)
        while True:
            await spoke.wait()
            spoke.clear()
            yield LONG

    async with ScriptedOpenAI(lambda body: Reply(text="Thank you, that's helpful.")) as server:
        setup = InterviewSetup(settings=short_settings(), banks=real_banks, prompts=templates,
                               profile=verbatim_profile(server.base_url))
        runtime = WorkerRuntime(setup=setup, build_ctx=BuildContext(env={}), setting_prefix="profiles.test",
                                sink=journal, clock=clock)
        record = await asyncio.wait_for(run_text_console(runtime, lines=candidate(), write=write), 60)

    assert record is not None and record.end_reason == "completed"
    assert record.turns[-1].speaker is Speaker.AGENT and record.turns[-1].text.endswith("Goodbye!")
    assert said == [t.text for t in record.turns if t.speaker is Speaker.AGENT]
