"""Personas for simulated candidates: validated files, scripted lines first, LLM replies within the word budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import openai
import pytest
from livekit.plugins import openai as lk_openai

from engine.yamlsrc import SourceError
from sima.simulation.audio import CandidateMic, Tape
from sima.simulation.persona import load_persona
from sima.simulation.replier import ATTEMPTS, FALLBACK_REPLY, PersonaReplier
from sima.simulation.run import LEAD_SECONDS, _say
from sima.simulation.timing import voiced_seconds
from tests.conftest import ROOT
from tests.support.openai_server import Reply, ScriptedOpenAI, tone_wav

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
        third = await replier.reply("And underfitting?")
    assert first == persona.scripted_answers[0]
    assert len(second.split()) <= persona.answer_words[1] and second.endswith(".")
    first_call, second_call = server.requests  # the scripted line made no LLM call
    assert first_call["messages"][0]["role"] == "system" and "Sam Okafor" in first_call["messages"][0]["content"]
    # each reply is written from the persona and the latest question only: no earlier answers to copy
    assert first_call["messages"][1:] == [{"role": "user", "content": "What is overfitting?"}]
    assert second_call["messages"][1:] == [{"role": "user", "content": "And underfitting?"}] and third == second


async def test_a_reply_streams_whole_sentences_as_they_are_written(prompts):
    persona = load_persona("priya-backend-strong", PERSONAS)  # 25 to 50 words
    answer = ("I led the move to three services in Go. It took nine months, e.g. the billing part alone took three. "
              "We cut checkout p99 from 900 ms to 250 ms with caching and query fixes, measured over a week of "
              "traffic. I would do the database split earlier next time. And this sentence is over the budget.")
    async with ScriptedOpenAI(lambda body: Reply(text=answer, chunk_delay=0.005)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        replier = PersonaReplier(persona, prompts, client, model="m")
        sentences = [s async for s in replier.stream("Tell me about your last project.")]
    assert server.requests[0]["stream"] is True
    assert sentences[0] == "I led the move to three services in Go."
    assert sentences[1] == "It took nine months, e.g."  # an abbreviation splits; the next chunk follows at once
    # whole sentences up to the 50-word budget; the one that would cross it is not said
    assert sum(len(s.split()) for s in sentences) <= 50
    assert sentences[-1] == "I would do the database split earlier next time."


async def test_a_first_sentence_over_budget_is_cut(prompts):
    persona = load_persona("sam-data-weak", PERSONAS).model_copy(update={"scripted_answers": []})  # 10 to 30 words
    rambling = " ".join(["and then"] * 40) + ". Second sentence."
    async with ScriptedOpenAI(lambda body: Reply(text=rambling)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        [only] = [s async for s in PersonaReplier(persona, prompts, client, model="m").stream("Your project?")]
    assert len(only.split()) == 30 and only.endswith("then.")


@pytest.mark.parametrize(("cut_off", "said"), [(True, ["I used pandas."] * 4),
                                                (False, ["I used pandas."] * 4 + ["Then I plotted the residuals."])])
async def test_half_a_sentence_at_max_tokens_is_not_said(prompts, cut_off, said):
    persona = load_persona("sam-data-weak", PERSONAS).model_copy(update={"scripted_answers": []})  # 10 to 30 words
    text = "I used pandas. " * 4 + "Then I plotted the residuals"
    async with ScriptedOpenAI(lambda body: Reply(text=text, cut_off=cut_off)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        sentences = [s async for s in PersonaReplier(persona, prompts, client, model="m").stream("Your project?")]
    # cut off by max_tokens, the last words are half a thought; a reply that ended there gets its full stop
    assert sentences == said


@pytest.mark.parametrize("slip", ["As an AI language model, I have no projects.",
                                  "I'm sorry, but I can't assist with that request."])
async def test_a_reply_out_of_role_is_written_again(prompts, slip):
    persona = load_persona("sam-data-weak", PERSONAS).model_copy(update={"scripted_answers": []})
    replies = iter([slip, "I built an AI model for house prices in my final year, with pandas and scikit-learn."])
    async with ScriptedOpenAI(lambda body: Reply(text=next(replies))) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        answer = await PersonaReplier(persona, prompts, client, model="m").reply("Tell me about a project.")
    assert answer.startswith("I built an AI model") and len(server.requests) == 2


async def test_a_model_that_never_stays_in_role_gives_the_fallback_line(prompts):
    persona = load_persona("sam-data-weak", PERSONAS).model_copy(update={"scripted_answers": []})
    async with ScriptedOpenAI(lambda body: Reply(text="As an AI, I cannot answer.")) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        answer = await PersonaReplier(persona, prompts, client, model="m").reply("Tell me about a project.")
    assert answer == FALLBACK_REPLY and len(server.requests) == ATTEMPTS


async def test_closing_the_mic_releases_a_speaker_waiting_to_be_heard():
    mic = CandidateMic(16000, Tape(16000))
    speaking = asyncio.create_task(mic.speak(np.ones(16000 * 30, dtype=np.int16)))
    await mic.__anext__()  # the session takes one frame of thirty seconds' speech, then stops reading
    assert not speaking.done()
    mic.close()
    await asyncio.wait_for(speaking, 1)
    await asyncio.wait_for(mic.speak(np.ones(10, dtype=np.int16)), 1)  # a closed mic hears nothing, at once


async def test_markup_and_list_markers_are_not_read_out(prompts):
    persona = load_persona("priya-backend-strong", PERSONAS)
    listy = ("I would follow these steps:\n\n1. **Find the callers**: search every service for the column.\n"
             "2. Add the new column and write to both. - Then `backfill` in batches.")
    async with ScriptedOpenAI(lambda body: Reply(text=listy)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        said = await PersonaReplier(persona, prompts, client, model="m").reply("How would you rename it?")
    assert said == ("I would follow these steps: Find the callers : search every service for the column. "
                    "Add the new column and write to both. Then backfill in batches.")


async def test_a_spoken_reply_starts_with_a_lead_then_follows_sentence_by_sentence():
    long = "I would first collect the latency figures for the main API and then compare the traces."  # 1.8 s
    sentences = ["Certainly.", long, long, long]

    async def reply():
        for sentence in sentences:
            yield sentence

    def speaker(text: str) -> bytes:
        return tone_wav(text, seconds_per_char=0.02)

    async with ScriptedOpenAI(lambda body: Reply(), speaker=speaker) as server:
        voice = lk_openai.TTS(base_url=server.base_url, api_key="test", model="tts-1", response_format="wav")
        rate = voice.sample_rate
        tape = Tape(rate)
        mic = CandidateMic(rate, tape)
        lines: list[str] = []

        async def listen() -> None:  # the session reads the mic in real time
            while True:
                await mic.__anext__()

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(_say(reply(), voice, mic, asyncio.Event(), lambda who, line: lines.append(line)), 15)
        listener.cancel()
    first, *rest = [samples for _, samples in tape.pieces]
    # "Certainly." (0.2 s) alone would be heard as the whole answer: it waits for the next sentence, and the one
    # after, until the lead is voiced; then each sentence goes out on its own, queued straight after
    assert LEAD_SECONDS * rate <= len(first) < (LEAD_SECONDS + 1.9) * rate and len(rest) == 1
    starts = [at for at, _ in tape.pieces]
    assert starts[1] - starts[0] == pytest.approx(len(first) / rate, abs=0.1)
    assert lines == [" ".join(sentences)]
    # the answer as the candidate said it, for what they hear next: its first sample to its last voiced one
    [(start, end, words)] = tape.timing.answers
    assert start - tape.origin == pytest.approx(starts[0], abs=1e-6)
    assert end - tape.origin == pytest.approx(starts[1] + voiced_seconds(rest[0], rate), abs=1e-6)
    assert end - start > (len(first) + len(rest[0])) / rate - 0.5
    assert words == " ".join(sentences)
    assert tape.timing.summary().said == [words]  # what a transcript of it is checked against
