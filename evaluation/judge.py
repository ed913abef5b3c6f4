"""The LLM judge: one OpenAI-compatible endpoint, a JSON-schema reply validated by pydantic, retries with backoff.

The judge only scores dimensions and cites evidence. It is never asked for an overall score or a decision, and
anything extra it volunteers (an "overall_score", a "decision") is ignored: code computes those.

Example::

    >>> endpoint = ModelEndpoint("http://127.0.0.1:8080/v1", "local", "qwen2.5", schema_style="json_object")
    >>> judge = Judge(endpoint, EvaluationSettings())                 # doctest: +SKIP
    >>> outputs = await judge.samples(messages, n=3)                  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import openai
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from evaluation.settings import Dimension, EvaluationSettings
from evaluation.validation import first_error

log = logging.getLogger(__name__)

Score = Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
SchemaStyle = Literal["json_schema", "json_object"]
MAX_ITEMS = 3
X = TypeVar("X")
# At most MAX_ITEMS: the schema says so (a grammar-constrained local model must close the list instead of looping
# in it), and a longer list from a server that ignores the schema is cut, not rejected: it is still a good answer.
UpTo3 = Annotated[list[X], BeforeValidator(lambda v: v[:MAX_ITEMS] if isinstance(v, list) else v),
                  Field(json_schema_extra={"maxItems": MAX_ITEMS})]


def at_most(chars: int) -> Any:
    """`Annotated[str, at_most(n)]`: a string whose schema says `maxLength: n`. A grammar-constrained local model
    must close the string there, so a small model caught repeating a phrase ends the string instead of filling
    max_output_tokens (seen with the 0.5B judge). The limits sit well above a good answer, and a longer reply is not
    rejected; OpenAI's strict mode does not take `maxLength`, so :func:`response_format` leaves it out there.

    >>> JudgeOutput.model_json_schema()["properties"]["summary"]["maxLength"]
    600
    """
    return Field(json_schema_extra={"maxLength": chars})


@dataclass(frozen=True)
class ModelEndpoint:
    """An OpenAI-compatible chat model ready to call (the judge, or a simulated candidate). `schema_style` is how
    the server takes a JSON schema: OpenAI's `json_schema` response format, or llama-cpp-python's `json_object`
    with a `schema` (its server rejects `json_schema`)."""

    base_url: str | None
    api_key: str
    model: str
    schema_style: SchemaStyle = "json_schema"


class _JudgeModel(BaseModel):
    # Extra keys are ignored rather than rejected (a judge adding "overall_score" is not malformed), while the
    # schema sent says additionalProperties: false, which OpenAI's strict mode requires.
    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})


class Quote(_JudgeModel):
    turn: int = Field(description="the [T<n>] number of the candidate turn quoted")
    quote: Annotated[str, at_most(240)] = Field(description="the candidate's exact words, copied verbatim")


class DimensionJudgement(_JudgeModel):
    # Rationale and evidence come before the score so a model writing left to right reasons before it scores.
    rationale: Annotated[str, at_most(400)]
    evidence: UpTo3[Quote]
    score: Score


class RedFlag(_JudgeModel):
    description: Annotated[str, at_most(240)]
    evidence: UpTo3[Quote]


class JudgeOutput(_JudgeModel):
    technical_competency: DimensionJudgement
    problem_solving: DimensionJudgement
    communication: DimensionJudgement
    experience: DimensionJudgement
    culture_fit: DimensionJudgement
    strengths: UpTo3[Annotated[str, at_most(120)]]
    weaknesses: UpTo3[Annotated[str, at_most(120)]]
    red_flags: UpTo3[RedFlag]
    summary: Annotated[str, at_most(600)]

    def dimension(self, d: Dimension) -> DimensionJudgement:
        judgement: DimensionJudgement = getattr(self, d.value)
        return judgement


def _without(node: Any, keyword: str) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, keyword) for k, v in node.items() if k != keyword}
    return [_without(v, keyword) for v in node] if isinstance(node, list) else node


def response_format(style: SchemaStyle) -> dict[str, Any]:
    schema = JudgeOutput.model_json_schema()
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    schema = _without(schema, "maxLength")
    return {"type": "json_schema", "json_schema": {"name": "interview_evaluation", "schema": schema, "strict": True}}


class JudgeFailed(Exception):
    """Every attempt failed; the message holds the last error, which the job keeps for `sima evaluations`."""

    def __init__(self, attempts: int, last_error: str):
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"judge failed after {attempts} attempt(s): {last_error}")


class MalformedReply(Exception):
    """The judge answered, but not with JSON matching the schema."""


def parse_reply(content: str | None) -> JudgeOutput:
    """Validate one reply; a markdown code fence around the JSON (small local models add one) is tolerated.

    >>> parse_reply("not json")
    Traceback (most recent call last):
    ...
    evaluation.judge.MalformedReply: reply is not JSON: Expecting value at 1:1
    """
    text = (content or "").strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"reply is not JSON: {exc.msg} at {exc.lineno}:{exc.colno}") from exc
    try:
        return JudgeOutput.model_validate(data)
    except ValidationError as exc:
        raise MalformedReply(f"reply does not match the schema: {first_error(exc)}") from exc


class Judge:
    """Calls the endpoint; each sample gets `max_attempts` calls with exponential backoff between them."""

    def __init__(self, endpoint: ModelEndpoint, settings: EvaluationSettings):
        self.endpoint = endpoint
        self.settings = settings
        self.calls = 0  # every call made, failed or not, for the job's attempt count
        # The client's own retries are off: backoff is ours, so it is configured, counted and logged in one place.
        self.client = openai.AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, max_retries=0,
                                         timeout=settings.request_timeout_seconds)

    async def close(self) -> None:
        await self.client.close()

    async def once(self, messages: list[dict[str, str]]) -> JudgeOutput:
        self.calls += 1
        completion = await self.client.chat.completions.create(
            model=self.endpoint.model,
            messages=messages,  # type: ignore[arg-type]
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_output_tokens,
            response_format=response_format(self.endpoint.schema_style),  # type: ignore[arg-type]
        )
        if not completion.choices:
            raise MalformedReply("reply has no choices")
        return parse_reply(completion.choices[0].message.content)

    async def sample(self, messages: list[dict[str, str]]) -> JudgeOutput:
        last = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            # a local judge takes a minute or two: say it is working, and how long it took
            log.info("judge (%s): scoring, attempt %d/%d", self.endpoint.model, attempt, self.settings.max_attempts)
            started = time.monotonic()
            try:
                output = await self.once(messages)
                log.info("judge (%s): scored in %.0f s", self.endpoint.model, time.monotonic() - started)
                return output
            except (openai.APIError, MalformedReply) as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("judge attempt %d/%d failed: %s", attempt, self.settings.max_attempts, last)
            if attempt < self.settings.max_attempts:
                await asyncio.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
        raise JudgeFailed(self.settings.max_attempts, last)

    async def samples(self, messages: list[dict[str, str]], n: int) -> list[JudgeOutput]:
        """`n` independent samples, concurrently; the first that exhausts its attempts fails them all."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self.sample(messages)) for _ in range(n)]
        except ExceptionGroup as group_error:
            failed = [e for e in group_error.exceptions if isinstance(e, JudgeFailed)]
            if failed:
                raise failed[0] from None
            raise
        return [t.result() for t in tasks]
