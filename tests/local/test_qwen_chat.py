"""The Qwen tool-call handler's text splitting, on fabricated llama-cpp-python output (no model needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.local.qwen_chat import ToolCallSplitter, _arguments_as_objects, _split_response, _split_stream

CALL = '{"name": "record_profile", "arguments": {"role": "backend", "years": 5}}'


def feed_all(pieces: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    splitter = ToolCallSplitter()
    streamed = "".join(splitter.feed(p) for p in pieces)
    tail, calls = splitter.finish()
    return streamed, tail, calls


def pieces_of(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_call_after_prose_is_split_whatever_the_token_boundaries(size: int) -> None:
    streamed, tail, calls = feed_all(pieces_of("Thanks, noted.\n" + CALL, size))

    assert (streamed + tail).strip() == "Thanks, noted."
    assert calls == [("record_profile", '{"role": "backend", "years": 5}')]


def test_several_calls_and_no_prose() -> None:
    streamed, tail, calls = feed_all(["\n", CALL, "\n", '{"name": "next_question", "arguments": {}}'])

    assert streamed.strip() == tail == ""
    assert [name for name, _ in calls] == ["record_profile", "next_question"]


def test_prose_with_braces_streams_through() -> None:
    streamed, tail, calls = feed_all(pieces_of("Use a dict like {key: value} or {} here.", 4))

    assert streamed + tail == "Use a dict like {key: value} or {} here."
    assert calls == []


def test_text_streams_before_the_end() -> None:
    splitter = ToolCallSplitter()

    assert splitter.feed("Tell me about ") == "Tell me about "
    assert splitter.feed("your last project {") == "your last project "  # only the possible call start is held
    assert splitter.feed("with examples}") == "{with examples}"


def test_unparseable_call_is_returned_as_text() -> None:
    streamed, tail, calls = feed_all(['{"name": "record_profile", "arguments": {"role": '])

    assert calls == [] and streamed + tail == '{"name": "record_profile", "arguments": {"role": '


def test_string_arguments_are_decoded() -> None:
    _, _, calls = feed_all(['{"name": "f", "arguments": "{\\"a\\": 1}"}'])

    assert calls == [("f", '{"a": 1}')]


def chunks(texts: list[str]) -> Iterator[dict[str, Any]]:
    """What llama-cpp-python's chat handler streams: a role chunk, content chunks, an empty finish chunk."""
    frame = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    yield {**frame, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    for text in texts:
        yield {**frame, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    yield {**frame, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def test_stream_becomes_openai_tool_call_chunks() -> None:
    out = list(_split_stream(chunks(["Great. ", *pieces_of(CALL, 5)])))
    deltas = [c["choices"][0]["delta"] for c in out]

    assert deltas[0] == {"role": "assistant"}
    assert "".join(d.get("content", "") for d in deltas) == "Great. "
    (call,) = next(d["tool_calls"] for d in deltas if "tool_calls" in d)
    assert call["index"] == 0 and call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "record_profile"
    assert json.loads(call["function"]["arguments"]) == {"role": "backend", "years": 5}
    assert out[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert all(c["id"] == "chatcmpl-1" for c in out)


def test_plain_stream_keeps_its_finish_reason() -> None:
    out = list(_split_stream(chunks(["Hello", " there."])))

    assert "".join(c["choices"][0]["delta"].get("content", "") for c in out) == "Hello there."
    assert out[-1]["choices"][0]["finish_reason"] == "stop"


def test_non_streamed_response_gets_tool_calls() -> None:
    response = {"choices": [{"index": 0, "message": {"role": "assistant", "content": CALL}, "finish_reason": "stop"}]}

    choice = _split_response(response)["choices"][0]

    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "record_profile"


def test_history_arguments_become_objects_for_the_template() -> None:
    message = {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}],
    }

    assert _arguments_as_objects(message)["tool_calls"][0]["function"]["arguments"] == {"a": 1}
    assert message["tool_calls"][0]["function"]["arguments"] == '{"a": 1}'  # the request is not mutated
