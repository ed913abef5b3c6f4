"""A llama-cpp-python chat handler that turns Qwen2.5's tool calls into OpenAI `tool_calls`.

Why: with the GGUF's own chat template (llama-cpp-python's default), Qwen2.5 is prompted with its native tool format
and answers `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; `<tool_call>` is a special token the server
drops, so the call reaches the client as plain *text* (which a voice agent would read aloud). llama-cpp-python's
`chatml-function-calling` handler parses calls but raises on streamed automatic tool choice, which is what LiveKit
sends. This handler keeps the GGUF template and splits the streamed text: prose passes through as it is generated,
a trailing `{"name": ..., "arguments": ...}` object becomes a `tool_calls` delta with finish reason `tool_calls`.

Registered under `CHAT_FORMAT` by `pipeline.local.llama_entry`, the server entry point `LlamaServer` runs.

Example::

    >>> splitter = ToolCallSplitter()
    >>> splitter.feed('Noted. {"name": "record_profile", "arguments": {"role": "backend"}}')
    'Noted. '
    >>> splitter.finish()
    ('', [('record_profile', '{"role": "backend"}')])
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import llama_cpp

log = logging.getLogger(__name__)

CHAT_FORMAT = "sima-qwen-tools"

_CALL_START = re.compile(r'\{\s*"name"\s*:')
_MARKER = '{"name":'
_DEFAULT_TEMPLATE = "chat_template.default"


class ToolCallSplitter:
    """Incrementally separates spoken text from a Qwen tool-call JSON tail.

    Text is released as soon as it cannot be the start of `{"name":`; from a confirmed start on, everything is kept
    for `finish()`, which parses one or more call objects (Qwen emits calls after any prose).
    """

    def __init__(self) -> None:
        self._pending = ""
        self._calls_text: str | None = None

    def feed(self, text: str) -> str:
        """Add generated text; return the part that is safe to send as content now."""
        if self._calls_text is not None:
            self._calls_text += text
            return ""
        self._pending += text
        if m := _CALL_START.search(self._pending):
            out, self._calls_text, self._pending = self._pending[: m.start()], self._pending[m.start() :], ""
            return out
        hold = _possible_start(self._pending)
        out, self._pending = self._pending[:hold], self._pending[hold:]
        return out

    def finish(self) -> tuple[str, list[tuple[str, str]]]:
        """Remaining content and the parsed calls as (name, JSON arguments). Unparseable tails become content."""
        if self._calls_text is None:
            return self._pending, []
        calls = _parse_calls(self._calls_text)
        if not calls:
            log.warning("model output looked like a tool call but did not parse: %.200s", self._calls_text)
            return self._calls_text, []
        return "", calls


def _possible_start(text: str) -> int:
    """Index from which `text` might still grow into `{"name":` (len(text) if nowhere)."""
    i = text.rfind("{")
    while i != -1:
        if _MARKER.startswith(re.sub(r"\s+", "", text[i:])):
            return i
        i = text.rfind("{", 0, i)
    return len(text)


def _parse_calls(text: str) -> list[tuple[str, str]]:
    decoder = json.JSONDecoder()
    calls: list[tuple[str, str]] = []
    pos = 0
    while m := _CALL_START.search(text, pos):
        try:
            obj, pos = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            break
        name, args = obj.get("name"), obj.get("arguments", {})
        if isinstance(args, str):  # some generations quote the arguments object
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                break
        if not isinstance(name, str) or not isinstance(args, dict):
            break
        calls.append((name, json.dumps(args, ensure_ascii=False)))
    return calls


def qwen_tools_handler(
    *,
    llama: llama_cpp.Llama,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    stream: bool = False,
    **kwargs: Any,
) -> Any:
    """A `LlamaChatCompletionHandler`: GGUF template for the prompt, OpenAI tool calls in the answer."""
    base = llama._chat_handlers.get(_DEFAULT_TEMPLATE)  # built by Llama() from the GGUF's tokenizer.chat_template
    if base is None:
        raise ValueError(f"{CHAT_FORMAT} needs a GGUF with tokenizer.chat_template")
    messages = [_arguments_as_objects(m) for m in messages]
    if not tools or tool_choice == "none":
        return base(llama=llama, messages=messages, stream=stream, **kwargs)
    if isinstance(tool_choice, dict):
        # a forced call: llama-cpp-python's grammar path already answers with a proper tool call
        return base(llama=llama, messages=messages, tools=tools, tool_choice=tool_choice, stream=stream, **kwargs)
    result = base(llama=llama, messages=messages, tools=tools, stream=stream, **kwargs)
    return _split_stream(result) if stream else _split_response(result)


def _arguments_as_objects(message: dict[str, Any]) -> dict[str, Any]:
    # OpenAI clients send tool-call arguments as a JSON string; Qwen's template renders them with `tojson`, so a
    # string would show the model an escaped string instead of the object it produced.
    calls = message.get("tool_calls")
    if not calls:
        return message
    fixed = []
    for call in calls:
        fn = dict(call.get("function", {}))
        if isinstance(fn.get("arguments"), str):
            with contextlib.suppress(json.JSONDecodeError):  # malformed: leave it as the model wrote it
                fn["arguments"] = json.loads(fn["arguments"])
        fixed.append({**call, "function": fn})
    return {**message, "tool_calls": fixed}


def _tool_call(index: int, name: str, arguments: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _split_response(response: dict[str, Any]) -> dict[str, Any]:
    choice = response["choices"][0]
    splitter = ToolCallSplitter()
    content = splitter.feed(choice["message"].get("content") or "")
    tail, calls = splitter.finish()
    if calls:
        choice["message"]["content"] = (content + tail).strip() or None
        choice["message"]["tool_calls"] = [_tool_call(i, n, a) for i, (n, a) in enumerate(calls)]
        choice["finish_reason"] = "tool_calls"
    return response


def _split_stream(chunks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    splitter = ToolCallSplitter()
    frame: dict[str, Any] = {}
    finish_reason = "stop"
    for chunk in chunks:
        frame = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        choice = chunk["choices"][0]
        if choice.get("finish_reason") is not None:
            finish_reason = choice["finish_reason"]  # re-sent below, after any held-back text or calls
            continue
        delta = choice.get("delta", {})
        if delta.get("content"):
            delta["content"] = splitter.feed(delta["content"])
            if not delta["content"] and len(delta) == 1:
                continue  # held back: maybe the start of a call
        yield chunk
    tail, calls = splitter.finish()
    if tail:
        yield _chunk(frame, {"content": tail})
    if calls:
        yield _chunk(frame, {"tool_calls": [_tool_call(i, n, a) for i, (n, a) in enumerate(calls)]})
        finish_reason = "tool_calls"
    yield _chunk(frame, {}, finish_reason)


def _chunk(frame: dict[str, Any], delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {**frame, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}


def register() -> None:
    """Make `--chat_format sima-qwen-tools` known to llama-cpp-python (call before the server loads the model)."""
    from llama_cpp import llama_chat_format

    llama_chat_format.register_chat_completion_handler(CHAT_FORMAT)(qwen_tools_handler)
