"""Function tools whose JSON schema is built once per process instead of on every LLM request.

LiveKit derives a typed `@function_tool`'s JSON schema (a pydantic model made from its signature and docstring) again
for every request that offers the tool, and again to check each call's arguments: 4.6 ms per request for the
tool-driven interviewer's six tools on this machine, on the event loop every session of a worker shares. A prebuilt
tool is LiveKit's raw function tool carrying that very schema, built once per method, and a validator built once.

Example::

    >>> from livekit.agents import RunContext
    >>> class Greeter:
    ...     async def greet(self, context: RunContext, name: str, times: int = 1) -> str:
    ...         '''Greet someone.
    ...
    ...         Args:
    ...             name: whom to greet
    ...             times: how often
    ...         '''
    ...         return " ".join([f"Hello {name}"] * times)
    >>> [tool] = prebuilt_tools(Greeter().greet)
    >>> schema = tool.info.raw_schema
    >>> schema["name"], schema["parameters"]["required"], schema["parameters"]["properties"]["name"]["description"]
    ('greet', ['name', 'times'], 'whom to greet')
    >>> import asyncio
    >>> asyncio.run(tool(raw_arguments={"name": "Ada", "times": None}, context=None))  # null: the default
    'Hello Ada'
    >>> try:
    ...     asyncio.run(tool(raw_arguments={"name": "Ada", "times": "twice"}, context=None))
    ... except ToolError as exc:
    ...     print(exc)
    invalid arguments for `greet`: times: Input should be a valid integer, unable to parse string as an integer
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, get_type_hints

from livekit.agents import RunContext, ToolError, function_tool, llm
from pydantic import BaseModel, ValidationError

Method = Callable[..., Awaitable[Any]]

_built: dict[Callable[..., Any], tuple[dict[str, Any], type[BaseModel], str | None]] = {}


def _schema(method: Method) -> tuple[dict[str, Any], type[BaseModel], str | None]:
    """The tool's OpenAI schema, its arguments' model and its context parameter, built once per function."""
    key = getattr(method, "__func__", method)
    if key not in _built:
        typed = function_tool(method)
        schema = llm.utils.build_strict_openai_schema(typed)["function"]
        hints = get_type_hints(method)
        context = next((name for name in inspect.signature(method).parameters
                        if llm.utils.is_context_type(hints[name], allow_subclasses=True)), None)
        _built[key] = schema, llm.utils.function_arguments_to_pydantic_model(typed), context
    return _built[key]


def _error(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def prebuilt(method: Method) -> llm.RawFunctionTool:
    """`method` (bound) as a tool whose schema is the one `@function_tool` would give it, built once."""
    schema, model, context_param = _schema(method)
    name = schema["name"]

    async def call(raw_arguments: dict[str, object], context: RunContext) -> Any:
        # the strict schema makes a parameter with a default nullable: null asks for the default
        given = {k: v for k, v in raw_arguments.items()
                 if not (v is None and k in model.model_fields and not model.model_fields[k].is_required())}
        try:
            args = model.model_validate(given)
        except ValidationError as exc:
            raise ToolError(f"invalid arguments for `{name}`: {_error(exc)}") from None
        kwargs = {field: getattr(args, field) for field in model.model_fields}
        if context_param is not None:
            kwargs[context_param] = context
        return await method(**kwargs)

    return function_tool(call, raw_schema=schema)


def prebuilt_tools(*methods: Method) -> list[llm.RawFunctionTool]:
    """Each of `methods` as a :func:`prebuilt` tool."""
    return [prebuilt(method) for method in methods]
