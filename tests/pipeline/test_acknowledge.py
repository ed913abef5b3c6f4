"""The acknowledgement sanitiser, the model's on/off-topic tag and variety (fast: no LiveKit session)."""

from __future__ import annotations

import itertools
import json

import pytest

from engine.answers import AnswerKind
from pipeline import acknowledge
from pipeline.acknowledge import MAX_TOKENS, clean
from tests.pipeline.conftest import scripted_llm
from tests.support.openai_server import Reply, ScriptedOpenAI

QUESTION = "How do you roll back a bad deploy?"
ANSWER = "I would start from the error budget and roll back first if a deploy lines up."


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Thank you, that's helpful.", "Thank you, that's helpful."),
        ("  Got it, thanks  ", "Got it, thanks."),  # no full stop: a short remark is still a sentence
        ('"Okay, thanks for explaining." Next question.', "Okay, thanks for explaining."),
        ("Interviewer: I see, thank you.", "I see, thank you."),
        ("**Thanks!**", "Thanks!"),
        ("Thanks, that gives me a clear picture. What was the hardest part? It was the schema.",
         "Thanks, that gives me a clear picture."),
        ("Nice to meet you! So, tell me about yourself.", "Nice to meet you!"),
    ],
)
def test_a_plain_acknowledgement_keeps_its_first_sentence(raw: str, kept: str) -> None:
    assert clean(raw, avoid=[ANSWER, QUESTION]) == kept


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "Can you tell me more about that?",  # a question of its own
        "Thanks? That is great.",
        "Thank you so much for taking the time to explain all of that to me in such detail.",  # too long
        "Thanks, that's 10 out of 10.",  # a score; digits are not speech anyway
        "<b>Thanks</b>",  # markup
        "Thanks 👍",
        "You're welcome! How can I assist you today?",  # assistant talk
        "Thank you for your feedback.",
        "Thanks, that's the correct answer.",  # a verdict on the answer
        "Hello, Ada Novak! This interview will last approximately 22 minutes.",  # not an acknowledgement
        "For example, I would use canary deployments to limit the blast radius.",  # an answer of its own
        "Thanks, I would start from the error budget too.",  # echoes the candidate
        "Okay, thanks, how do you roll back.",  # echoes the words that follow
    ],
)
def test_anything_else_is_dropped(raw: str) -> None:
    assert clean(raw, avoid=[ANSWER, QUESTION]) == ""


def test_the_instructions_may_not_be_echoed_but_their_quoted_examples_may() -> None:
    prompt = 'Reply warmly and briefly to what they said, such as "Thank you, that is clear." or "Got it."'
    prose = acknowledge._QUOTED.sub(" ", prompt)
    assert clean("Okay, thanks, reply warmly and briefly.", avoid=[prose]) == ""
    assert clean("Thank you, that is clear.", avoid=[prose]) == "Thank you, that is clear."


@pytest.mark.parametrize(
    ("reply", "label", "expected"),
    [
        (Reply(text="[on topic] Thanks, that's helpful. Tell me more?"), AnswerKind.ANSWER, "Thanks, that's helpful."),
        (Reply(text="(off-topic) Okay, I see."), AnswerKind.OFF_TOPIC, "Okay, I see."),
        (Reply(text="Got it, thanks."), None, "Okay, thank you."),  # opens like the last one: another one
        (Reply(text="Nice to meet you, thank you."), None, ""),  # a greeting, after the introduction
        (Reply(status=500), None, None),
        (Reply(text="Thanks.", first_token_delay=1.0), None, None),  # too slow
    ],
)
async def test_the_model_is_asked_once_with_a_small_budget(templates, monkeypatch: pytest.MonkeyPatch, reply: Reply,
                                                           label: AnswerKind | None, expected: str | None) -> None:
    monkeypatch.setattr(acknowledge, "TIMEOUT", 0.5)
    async with ScriptedOpenAI(lambda body: reply) as server:
        written = await acknowledge.acknowledge(scripted_llm(server.base_url), templates, ANSWER, phase="technical")
    if expected is None:
        assert written is None
    else:
        assert written is not None and written.label is label
        assert written.words(ANSWER, then=QUESTION, previous="Got it, thank you.",
                             phase="technical") == expected
    (body,) = server.requests  # one attempt, never retried
    assert body["max_tokens"] == MAX_TOKENS and len(body["messages"]) == 1
    assert json.dumps(ANSWER) in body["messages"][0]["content"]  # the answer only as quoted data


def test_acknowledgements_never_open_like_the_previous_one() -> None:
    previous = ""
    said = []
    for raw in ["Great to meet you, thank you.", "Great to meet you, thank you for that.", "Got it.", "Got it, thanks.",
                "Okay, thank you.", "Okay, thanks."]:
        previous = acknowledge.vary(raw, previous)
        said.append(previous)
    assert all(acknowledge._opening(a) != acknowledge._opening(b) for a, b in itertools.pairwise(said))


async def test_warming_up_asks_once_and_never_fails(templates) -> None:
    async with ScriptedOpenAI(lambda body: Reply(status=500)) as server:
        await acknowledge.warm_up(scripted_llm(server.base_url), templates)
    assert len(server.requests) == 1 and server.requests[0]["max_tokens"] == MAX_TOKENS


async def test_a_draft_written_while_the_candidate_speaks_stands_for_the_whole_answer(templates) -> None:
    words = ANSWER.split()
    half = " ".join(words[:len(words) // 2 + 1])
    async with ScriptedOpenAI(lambda body: Reply(text="Got it, thank you. What next?")) as server:
        model = scripted_llm(server.base_url)
        drafted = await acknowledge.draft(model, templates, half, phase="technical")
        assert drafted is not None and json.dumps(half) in server.requests[0]["messages"][0]["content"]
        # the draft covers half of the answer's words: it is used, cleaned, with no second request
        written = await acknowledge.acknowledge(model, templates, ANSWER, phase="technical", drafted=drafted)
        assert written is not None and written.words(ANSWER, then=QUESTION) == "Got it, thank you."
        assert len(server.requests) == 1
        # a draft for less of the answer, or for other words, is not
        for other in (" ".join(words[:3]), "I would roll back"):  # 3 of 16 words; words from elsewhere
            stale = await acknowledge.draft(model, templates, other, phase="technical")
            assert stale is not None and not stale.covers(ANSWER)
        await acknowledge.acknowledge(model, templates, ANSWER, phase="technical", drafted=stale)
    assert len(server.requests) == 4 and json.dumps(ANSWER) in server.requests[-1]["messages"][0]["content"]


async def test_a_draft_is_checked_against_the_words_that_follow() -> None:
    drafted = acknowledge.Draft(answer="I would start", prompt="Write a short acknowledgement.",
                                raw="Okay, thanks, how do you roll back.")
    written = await acknowledge.acknowledge(None, None, "I would start over",  # type: ignore[arg-type]
                                            phase="technical", drafted=drafted)
    assert written is drafted and written.words("I would start over", then=QUESTION) == ""


async def test_drafting_never_fails(templates) -> None:
    async with ScriptedOpenAI(lambda body: Reply(status=500)) as server:
        assert await acknowledge.draft(scripted_llm(server.base_url), templates, ANSWER, phase="technical") is None
    assert len(server.requests) == 1


def test_the_tag_is_asked_for_after_the_answer_so_the_prompt_start_stays_cached(templates) -> None:
    tagged = templates.render(acknowledge.TEMPLATE, answer=acknowledge.untrusted(ANSWER), phase="technical", tag=True)
    plain = templates.render(acknowledge.TEMPLATE, answer=acknowledge.untrusted(ANSWER), phase="technical", tag=False)
    assert tagged.startswith(plain.rstrip()) and "[off topic]" in tagged and "[on topic]" not in plain
