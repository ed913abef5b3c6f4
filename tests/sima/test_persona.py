"""Personas for simulated candidates: validated files, scripted lines first, LLM replies within the word budget."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from engine.yamlsrc import SourceError
from sima.simulation.persona import load_persona
from sima.simulation.replier import PersonaReplier
from tests.conftest import ROOT
from tests.support.openai_server import Reply, ScriptedOpenAI

PERSONAS = ROOT / "personas"


@pytest.mark.parametrize("path", sorted(PERSONAS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_personas_load(path: Path, shipped_banks):
    persona = load_persona(str(path), PERSONAS)
    assert shipped_banks.match_role(persona.role_text) is not None, "each persona names a role a bank knows"


def test_persona_by_name_and_unknown_name():
    assert load_persona("ada-devops-scripted", PERSONAS).name == "Ada Novak"
    with pytest.raises(SourceError, match=r"no such persona; known: .*priya-backend-strong"):
        load_persona("nobody", PERSONAS)


def test_bad_persona_names_file_line_field(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: X\nrole_text: backend\nlevel: guru\nyears: 1\nstrength: strong\nstyle: s\nbackground: b\n")
    with pytest.raises(SourceError) as exc:
        load_persona(str(path), tmp_path)
    [problem] = exc.value.problems
    assert str(problem).startswith(f"{path}:3: level: Input should be 'fresher'")


async def test_scripted_lines_come_first_then_the_llm_within_budget(prompts):
    persona = load_persona("sam-data-weak", PERSONAS)
    long_answer = "I think regression is a model. " * 30
    async with ScriptedOpenAI(lambda body: Reply(text=long_answer)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        replier = PersonaReplier(persona, prompts, client, model="m")
        first = await replier.reply("Please introduce yourself.")
        second = await replier.reply("What is overfitting?")
    assert first == persona.scripted_answers[0]
    assert len(second.split()) <= persona.answer_words[1] and second.endswith(".")
    [request] = server.requests  # the scripted line made no LLM call
    assert request["messages"][0]["role"] == "system" and "Sam Okafor" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": "What is overfitting?"}


async def test_closing_the_mic_releases_a_speaker_waiting_to_be_heard():
    import asyncio

    import numpy as np

    from sima.simulation.audio import CandidateMic, Tape

    mic = CandidateMic(16000, Tape(16000))
    speaking = asyncio.create_task(mic.speak(np.ones(16000 * 30, dtype=np.int16)))
    await mic.__anext__()  # the session takes one frame of thirty seconds' speech, then stops reading
    assert not speaking.done()
    mic.close()
    await asyncio.wait_for(speaking, 1)
    await asyncio.wait_for(mic.speak(np.ones(10, dtype=np.int16)), 1)  # a closed mic hears nothing, at once
