"""The judge against a scripted OpenAI-compatible server on 127.0.0.1: the request it sends, the replies it accepts,
retries with backoff, and a clear failure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from evaluation.judge import Judge, JudgeFailed, JudgeOutput, ModelEndpoint, response_format
from evaluation.settings import Dimension
from tests.evaluation.helpers import endpoint_for, fast_settings, judge_json, scripted
from tests.support.openai_server import Reply, ScriptedOpenAI

MESSAGES = [{"role": "system", "content": "judge"}, {"role": "user", "content": "interview"}]


@pytest.fixture
async def server() -> AsyncIterator[ScriptedOpenAI]:
    async with ScriptedOpenAI(scripted(judge_json(7))) as s:
        yield s


async def test_request_asks_for_the_json_schema_at_the_configured_temperature(server: ScriptedOpenAI) -> None:
    judge = Judge(endpoint_for(server), fast_settings())
    out = await judge.once(MESSAGES)
    assert out.dimension(Dimension.TECHNICAL).score == 7
    body = server.requests[0]
    assert body["model"] == "judge-model" and body["temperature"] == 0.3 and body["messages"] == MESSAGES
    assert body["max_tokens"] == 2048
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert set(fmt["json_schema"]["schema"]["required"]) == {*[d.value for d in Dimension], "strengths",
                                                             "weaknesses", "red_flags", "summary"}
    await judge.close()


async def test_llama_cpp_style_sends_json_object_with_schema(server: ScriptedOpenAI) -> None:
    endpoint = ModelEndpoint(server.base_url, "local", "qwen", schema_style="json_object")
    judge = Judge(endpoint, fast_settings(temperature=0.1))
    await judge.once(MESSAGES)
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"] == JudgeOutput.model_json_schema()
    assert server.requests[0]["temperature"] == 0.1
    await judge.close()


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "object" else []
        return found + [o for v in node.values() for o in _objects(v)]
    return [o for v in node for o in _objects(v)] if isinstance(node, list) else []


def test_schema_meets_openai_strict_mode() -> None:
    """Strict structured outputs need every object closed and every property required."""
    objects = _objects(JudgeOutput.model_json_schema())
    assert len(objects) == 4  # output, dimension, quote, red flag
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert set(obj["required"]) == set(obj["properties"])
    dimension = JudgeOutput.model_json_schema()["$defs"]["DimensionJudgement"]["properties"]
    assert dimension["score"]["enum"] == list(range(1, 11))
    assert dimension["evidence"]["maxItems"] == 3


def _strings(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "string" else []
        return found + [o for v in node.values() for o in _strings(v)]
    return [o for v in node for o in _strings(v)] if isinstance(node, list) else []


def test_every_string_is_bounded_for_a_grammar_but_not_in_openai_strict_mode() -> None:
    """A looping local model must be made to close each string; OpenAI's strict mode rejects `maxLength`."""
    local = _strings(response_format("json_object")["schema"])
    assert len(local) == 6  # quote, rationale, red flag, strength, weakness, summary
    assert all(0 < s["maxLength"] <= 600 for s in local)
    strict = _strings(response_format("json_schema")["json_schema"]["schema"])
    assert len(strict) == 6 and not any("maxLength" in s for s in strict)


def test_long_strings_are_accepted() -> None:
    data = json.loads(judge_json(7))
    data["summary"] = "word " * 500
    assert len(JudgeOutput.model_validate(data).summary) == 2500


def test_long_lists_are_cut_not_rejected() -> None:
    data = json.loads(judge_json(7))
    data["strengths"] = ["a", "b", "c", "d"]
    data["technical_competency"]["evidence"] = [{"turn": 1, "quote": f"quote {i}"} for i in range(5)]
    out = JudgeOutput.model_validate(data)
    assert out.strengths == ["a", "b", "c"] and len(out.technical_competency.evidence) == 3


def test_schema_compiles_to_a_llama_cpp_grammar() -> None:
    grammar = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = grammar.json_schema_to_gbnf(json.dumps(response_format("json_object")["schema"]))
    assert "technical-competency" in gbnf or "technical_competency" in gbnf


async def test_malformed_output_is_retried(server: ScriptedOpenAI) -> None:
    server.responder = scripted("not json at all", '{"technical_competency": {"score": 11}}', judge_json(8))
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=3))
    out = await judge.sample(MESSAGES)
    assert out.dimension(Dimension.TECHNICAL).score == 8
    assert len(server.requests) == 3 and judge.calls == 3
    await judge.close()


async def test_provider_errors_are_retried(server: ScriptedOpenAI) -> None:
    replies = [Reply(status=500), Reply(status=429), Reply(text=judge_json(6))]
    server.responder = lambda body: replies.pop(0)
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=3))
    assert (await judge.sample(MESSAGES)).dimension(Dimension.EXPERIENCE).score == 6
    assert len(server.requests) == 3
    await judge.close()


async def test_exhausted_attempts_fail_clearly_with_the_last_error(server: ScriptedOpenAI) -> None:
    server.responder = scripted('{"summary": "I refuse to use the schema"}')
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=4))
    with pytest.raises(JudgeFailed) as failure:
        await judge.sample(MESSAGES)
    assert failure.value.attempts == 4 and len(server.requests) == 4
    assert "does not match the schema" in failure.value.last_error
    assert "technical_competency" in failure.value.last_error
    await judge.close()


async def test_one_failing_sample_fails_the_set(server: ScriptedOpenAI) -> None:
    server.responder = scripted("{")
    judge = Judge(endpoint_for(server), fast_settings(max_attempts=2))
    with pytest.raises(JudgeFailed, match="not JSON"):
        await judge.samples(MESSAGES, 3)
    await judge.close()


async def test_samples_are_independent_calls(server: ScriptedOpenAI) -> None:
    server.responder = scripted(judge_json(5), judge_json(6), judge_json(7))
    judge = Judge(endpoint_for(server), fast_settings())
    outs = await judge.samples(MESSAGES, 3)
    assert sorted(o.dimension(Dimension.TECHNICAL).score for o in outs) == [5, 6, 7]
    await judge.close()


async def test_an_overall_score_or_decision_from_the_judge_is_ignored(server: ScriptedOpenAI) -> None:
    server.responder = scripted(judge_json(4, extra={"overall_score": 10, "decision": "Strong Hire"}))
    judge = Judge(endpoint_for(server), fast_settings())
    out = await judge.once(MESSAGES)
    assert "overall_score" not in out.model_dump() and "decision" not in out.model_dump()
    await judge.close()


async def test_a_code_fence_around_the_json_is_tolerated(server: ScriptedOpenAI) -> None:
    server.responder = scripted(f"```json\n{judge_json(7)}\n```")
    judge = Judge(endpoint_for(server), fast_settings())
    assert (await judge.once(MESSAGES)).summary
    await judge.close()
