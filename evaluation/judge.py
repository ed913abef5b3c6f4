"""The LLM judge: one OpenAI-compatible endpoint, a JSON-schema reply validated by pydantic, retries with backoff.

The judge is asked small things about ONE answer at a time: is each expected point covered, partly or missing (with
the candidate's words), which listed misconception the candidate stated, and one anchored 1–10 score with a one-line
reason. Dimension scores, the overall score and the decision are code's; anything extra the judge volunteers is
ignored.

Example::

    >>> endpoint = ModelEndpoint("http://127.0.0.1:8080/v1", "local", "qwen2.5", schema_style="json_object")
    >>> judge = Judge(endpoint, EvaluationSettings())                 # doctest: +SKIP
    >>> replies = await judge.samples(answer_messages(...), n=3)      # doctest: +SKIP
    >>> judge.usage.calls, judge.usage.prompt_tokens                  # doctest: +SKIP
    (3, 1260)
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

from evaluation.settings import EvaluationSettings
from evaluation.validation import first_error

log = logging.getLogger(__name__)

Score = Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
SchemaStyle = Literal["json_schema", "json_object"]
MAX_ITEMS = 6  # expected points per question (the banks have 3–6)
X = TypeVar("X")
# At most MAX_ITEMS: the schema says so (a grammar-constrained local model must close the list instead of looping
# in it), and a longer list from a server that ignores the schema is cut, not rejected: it is still a good answer.
UpTo = Annotated[list[X], BeforeValidator(lambda v: v[:MAX_ITEMS] if isinstance(v, list) else v),
                 Field(json_schema_extra={"maxItems": MAX_ITEMS})]


def at_most(chars: int) -> Any:
    """`Annotated[str, at_most(n)]`: a string whose schema says `maxLength: n`. A grammar-constrained local model
    must close the string there, so a small model caught repeating a phrase ends the string instead of filling
    max_output_tokens (seen with the 0.5B judge). The limits sit well above a good answer, and a longer reply is not
    rejected; OpenAI's strict mode does not take `maxLength`, so :func:`response_format` leaves it out there.

    >>> AnswerJudgement.model_json_schema()["properties"]["why"]["maxLength"]
    120
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
    """A quote for the evidence checks (`turn` may be 0 when the judge saw one answer: any turn of it will do)."""

    turn: int = 0
    quote: str


# Quotes are short (3–12 words is enough to find them) and capped: every token a local judge writes costs ~70 ms.
QUOTE_CHARS = 90


class PointJudgement(_JudgeModel):
    # the quote comes before the status: a model writing left to right looks for the words before it decides
    n: int = Field(description="the expected point's number")
    quote: Annotated[str, at_most(QUOTE_CHARS)] = Field(description="the candidate's exact words; '' if none")
    status: Literal["covered", "partly", "missing"]


class MisconceptionJudgement(_JudgeModel):
    n: int = Field(description="the misconception's number")
    quote: Annotated[str, at_most(QUOTE_CHARS)] = Field(description="the candidate's exact words stating it")


class AnswerJudgement(_JudgeModel):
    """The judge's reply about ONE answer: small things a small model can tell. Evidence comes before the score,
    so a model writing left to right looks before it scores; code combines these into the answer's score."""

    points: UpTo[PointJudgement]
    misconceptions: UpTo[MisconceptionJudgement]
    why: Annotated[str, at_most(120)] = Field(description="one line: why this score, about this answer")
    score: Score

def _without(node: Any, keyword: str) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, keyword) for k, v in node.items() if k != keyword}
    return [_without(v, keyword) for v in node] if isinstance(node, list) else node


def response_format(style: SchemaStyle) -> dict[str, Any]:
    schema = AnswerJudgement.model_json_schema()
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    schema = _without(schema, "maxLength")
    return {"type": "json_schema", "json_schema": {"name": "answer_judgement", "schema": schema, "strict": True}}


class JudgeFailed(Exception):
    """Every attempt failed; the message holds the last error, which the job keeps for `sima evaluations`."""

    def __init__(self, attempts: int, last_error: str):
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"judge failed after {attempts} attempt(s): {last_error}")


class MalformedReply(Exception):
    """The judge answered, but not with JSON matching the schema."""


def parse_reply(content: str | None) -> AnswerJudgement:
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
        data = json.loads(text, strict=False)  # a raw newline inside a string (seen from the 1.5B) is still JSON
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"reply is not JSON: {exc.msg} at {exc.lineno}:{exc.colno}") from exc
    try:
        return AnswerJudgement.model_validate(data)
    except ValidationError as exc:
        raise MalformedReply(f"reply does not match the schema: {first_error(exc)}") from exc


@dataclass
class JudgeUsage:
    """What judging cost: calls (failed ones too), tokens as the server reported them, wall seconds in calls."""

    calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def since(self, before: JudgeUsage) -> JudgeUsage:
        return JudgeUsage(self.calls - before.calls, self.failed_calls - before.failed_calls,
                          self.prompt_tokens - before.prompt_tokens,
                          self.completion_tokens - before.completion_tokens, round(self.seconds - before.seconds, 2))

    def copy(self) -> JudgeUsage:
        return JudgeUsage(**self.__dict__)


class Judge:
    """Calls the endpoint; each sample gets `max_attempts` calls with exponential backoff between them. At most
    `settings.concurrency` calls are in flight (llama.cpp's server answers one at a time: more would only queue)."""

    def __init__(self, endpoint: ModelEndpoint, settings: EvaluationSettings):
        self.endpoint = endpoint
        self.settings = settings
        self.usage = JudgeUsage()
        self._slots = asyncio.Semaphore(settings.concurrency)
        # The client's own retries are off: backoff is ours, so it is configured, counted and logged in one place.
        self.client = openai.AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, max_retries=0,
                                         timeout=settings.request_timeout_seconds)

    @property
    def calls(self) -> int:
        return self.usage.calls

    async def close(self) -> None:
        await self.client.close()

    async def once(self, messages: list[dict[str, str]], *, temperature: float | None = None) -> AnswerJudgement:
        async with self._slots:
            self.usage.calls += 1
            started = time.monotonic()
            try:
                completion = await self.client.chat.completions.create(
                    model=self.endpoint.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=self.settings.temperature if temperature is None else temperature,
                    max_tokens=self.settings.max_output_tokens,
                    response_format=response_format(self.endpoint.schema_style),  # type: ignore[arg-type]
                )
            finally:
                self.usage.seconds += time.monotonic() - started
        if completion.usage is not None:
            self.usage.prompt_tokens += completion.usage.prompt_tokens
            self.usage.completion_tokens += completion.usage.completion_tokens
        if not completion.choices:
            raise MalformedReply("reply has no choices")
        return parse_reply(completion.choices[0].message.content)

    async def sample(self, messages: list[dict[str, str]], *, temperature: float | None = None) -> AnswerJudgement:
        last = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                # a greedy judge would repeat a malformed reply word for word: retries sample instead
                return await self.once(messages, temperature=temperature if attempt == 1 else None)
            except (openai.APIError, MalformedReply) as exc:
                self.usage.failed_calls += 1
                last = f"{type(exc).__name__}: {exc}"
                log.warning("judge attempt %d/%d failed: %s", attempt, self.settings.max_attempts, last)
            if attempt < self.settings.max_attempts:
                await asyncio.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
        raise JudgeFailed(self.settings.max_attempts, last)

    async def samples(self, messages: list[dict[str, str]], n: int) -> list[AnswerJudgement]:
        """`n` independent samples, concurrently up to the judge's limit; the first that exhausts its attempts
        fails them all. One sample is decoded greedily (temperature 0): with nothing to average, sampling would only
        add noise to the score."""
        temperature = None if n > 1 else 0.0
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self.sample(messages, temperature=temperature)) for _ in range(n)]
        except ExceptionGroup as group_error:
            failed = [e for e in group_error.exceptions if isinstance(e, JudgeFailed)]
            if failed:
                raise failed[0] from None
            raise
        return [t.result() for t in tasks]
