"""The judge against a scripted OpenAI-compatible server on 127.0.0.1: the request it sends, the replies it accepts,
retries with backoff, usage accounting, concurrency, and a clear failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from evaluation.judge import AnswerJudgement, Judge, JudgeFailed, ModelEndpoint, response_format
from tests.evaluation.helpers import answer_json, endpoint_for, fast_settings, scripted
from tests.support.openai_server import Reply, ScriptedOpenAI

MESSAGES = [{"role": "system", "content": "judge"}, {"role": "user", "content": "one answer"}]
POINTS = [(1, "a token bucket per API key", "covered"), (2, "", "missing")]


@pytest.fixture
async def server() -> AsyncIterator[ScriptedOpenAI]:
    async with ScriptedOpenAI(scripted(answer_json(7, points=POINTS))) as s:
        yield s


async def test_request_asks_for_the_json_schema_at_the_configured_temperature(server: ScriptedOpenAI) -> None:
    judge = Judge(endpoint_for(server), fast_settings())
    out = await judge.once(MESSAGES)
    assert out.score == 7 and [(p.n, p.status) for p in out.points] == [(1, "covered"), (2, "missing")]
    body = server.requests[0]
    assert body["model"] == "judge-model" and body["temperature"] == 0.3 and body["messages"] == MESSAGES
    assert body["max_tokens"] == fast_settings().max_output_tokens
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert set(fmt["json_schema"]["schema"]["required"]) == {"points", "misconceptions", "why", "score"}
    await judge.close()


async def test_llama_cpp_style_sends_json_object_with_schema(server: ScriptedOpenAI) -> None:
    endpoint = ModelEndpoint(server.base_url, "local", "qwen", schema_style="json_object")
    judge = Judge(endpoint, fast_settings(temperature=0.1))
    await judge.once(MESSAGES)
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"] == AnswerJudgement.model_json_schema()
    assert server.requests[0]["temperature"] == 0.1
    await judge.close()


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "object" else []
        return found + [o for v in node.values() for o in _objects(v)]
    return [o for v in node for o in _objects(v)] if isinstance(node, list) else []


def test_schema_meets_openai_strict_mode() -> None:
    """Strict structured outputs need every object closed and every property required."""
    schema = AnswerJudgement.model_json_schema()
    objects = _objects(schema)
    assert len(objects) == 3  # the judgement, a point, a misconception
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert set(obj["required"]) == set(obj["properties"])
    assert schema["properties"]["score"]["enum"] == list(range(1, 11))
    assert schema["properties"]["points"]["maxItems"] == 6
    point = schema["$defs"]["PointJudgement"]["properties"]
    assert list(point) == ["n", "quote", "status"]  # the words before the verdict
    assert point["status"]["enum"] == ["covered", "partly", "missing"]


def _strings(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "string" else []
        return found + [o for v in node.values() for o in _strings(v)]
    return [o for v in node for o in _strings(v)] if isinstance(node, list) else []


def test_every_string_is_bounded_for_a_grammar_but_not_in_openai_strict_mode() -> None:
    """A looping local model must be made to close each string; OpenAI's strict mode rejects `maxLength`."""
    local = [s for s in _strings(response_format("json_object")["schema"]) if "enum" not in s]
    assert len(local) == 3  # a point's quote, a misconception's quote, why
    assert all(0 < s["maxLength"] <= 120 for s in local)
    strict = _strings(response_format("json_schema")["json_schema"]["schema"])
    assert strict and not any("maxLength" in s for s in strict)


def test_long_strings_are_accepted() -> None:
    data = json.loads(answer_json(7))
    data["why"] = "word " * 500
    assert len(AnswerJudgement.model_validate(data).why) == 2500


def test_long_lists_are_cut_not_rejected() -> None:
    data = json.loads(answer_json(7, points=[(i, f"quote {i}", "covered") for i in range(1, 10)]))
    assert len(AnswerJudgement.model_validate(data).points) == 6


def test_schema_compiles_to_a_llama_cpp_grammar() -> None:
    grammar = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = grammar.json_schema_to_gbnf(json.dumps(response_format("json_object")["schema"]))
    assert "misconceptions" in gbnf and "covered" in gbnf


async def test_malformed_output_is_retried(server: ScriptedOpenAI) -> None:
    server.responder = scripted("not json at all", answer_json(11), answer_json(8))
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=3))
    out = await judge.sample(MESSAGES)
    assert out.score == 8
    assert len(server.requests) == 3 and judge.calls == 3 and judge.usage.failed_calls == 2
    await judge.close()


async def test_provider_errors_are_retried(server: ScriptedOpenAI) -> None:
    replies = [Reply(status=500), Reply(status=429), Reply(text=answer_json(6))]
    server.responder = lambda body: replies.pop(0)
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=3))
    assert (await judge.sample(MESSAGES)).score == 6
    assert len(server.requests) == 3
    await judge.close()


async def test_exhausted_attempts_fail_clearly_with_the_last_error(server: ScriptedOpenAI) -> None:
    server.responder = scripted('{"why": "I refuse to use the schema", "score": 7}')
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=4))
    with pytest.raises(JudgeFailed) as failure:
        await judge.sample(MESSAGES)
    assert failure.value.attempts == 4 and len(server.requests) == 4
    assert "does not match the schema" in failure.value.last_error
    assert "points" in failure.value.last_error
    await judge.close()


async def test_one_failing_sample_fails_the_set(server: ScriptedOpenAI) -> None:
    server.responder = scripted("{")
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=2))
    with pytest.raises(JudgeFailed, match="not JSON"):
        await judge.samples(MESSAGES, 3)
    await judge.close()


async def test_samples_are_independent_calls(server: ScriptedOpenAI) -> None:
    server.responder = scripted(answer_json(5), answer_json(6), answer_json(7))
    judge = Judge(endpoint_for(server), fast_settings(concurrency=3))
    outs = await judge.samples(MESSAGES, 3)
    assert sorted(o.score for o in outs) == [5, 6, 7]
    await judge.close()


async def test_an_overall_score_or_decision_from_the_judge_is_ignored(server: ScriptedOpenAI) -> None:
    server.responder = scripted(answer_json(4, extra={"overall_score": 10, "decision": "Strong Hire"}))
    judge = Judge(endpoint_for(server), fast_settings())
    out = await judge.once(MESSAGES)
    assert "overall_score" not in out.model_dump() and "decision" not in out.model_dump()
    await judge.close()


async def test_a_code_fence_around_the_json_is_tolerated(server: ScriptedOpenAI) -> None:
    server.responder = scripted(f"```json\n{answer_json(7)}\n```")
    judge = Judge(endpoint_for(server), fast_settings())
    assert (await judge.once(MESSAGES)).score == 7
    await judge.close()


async def test_usage_counts_calls_tokens_and_seconds(server: ScriptedOpenAI) -> None:
    judge = Judge(endpoint_for(server), fast_settings())
    before = judge.usage.copy()
    await judge.samples(MESSAGES, 2)
    used = judge.usage.since(before)
    # the scripted server reports 10 prompt and 10 completion tokens a call, as a real one reports its own
    assert (used.calls, used.prompt_tokens, used.completion_tokens, used.failed_calls) == (2, 20, 20, 0)
    assert used.seconds >= 0
    await judge.close()


@pytest.mark.parametrize(("concurrency", "expected"), [(1, 1), (3, 3)])
async def test_calls_in_flight_never_exceed_the_configured_concurrency(server: ScriptedOpenAI, concurrency: int,
                                                                       expected: int) -> None:
    """llama.cpp's server answers one request at a time (concurrency 1); a cloud API takes several."""
    in_flight, peak = 0, 0

    async def slow(body: dict[str, Any]) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return Reply(text=answer_json(7))

    server.responder = slow
    judge = Judge(endpoint_for(server), fast_settings(concurrency=concurrency))
    await judge.samples(MESSAGES, 3)
    assert peak == expected
    await judge.close()


async def test_one_sample_is_greedy_several_are_sampled_at_the_configured_temperature(server: ScriptedOpenAI) -> None:
    judge = Judge(endpoint_for(server), fast_settings(temperature=0.7))
    await judge.samples(MESSAGES, 1)
    await judge.samples(MESSAGES, 2)
    assert [b["temperature"] for b in server.requests] == [0.0, 0.7, 0.7]
    await judge.close()


async def test_a_greedy_judges_retry_samples_and_raw_newlines_in_strings_are_accepted(server: ScriptedOpenAI) -> None:
    raw_newline = '{"points": [], "misconceptions": [], "why": "line one\nline two", "score": 6}'
    server.responder = scripted("not json", raw_newline)
    judge = Judge(endpoint_for(server), fast_settings(temperature=0.7))
    [out] = await judge.samples(MESSAGES, 1)
    assert out.score == 6 and out.why == "line one\nline two"
    assert [b["temperature"] for b in server.requests] == [0.0, 0.7]
    await judge.close()
