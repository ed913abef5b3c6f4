"""The benchmarks' LLM: the tests' scripted OpenAI-compatible server on 127.0.0.1, in a process of its own.

A separate process because a real LLM is remote: its HTTP parsing and SSE streaming must not take CPU from the
worker being measured, nor its kept request bodies count in the worker's memory. Every reply waits
`first_token_delay` before its first chunk. A candidate line containing :data:`TOOL_MARKER` makes the model call
`next_question` first (when tools are offered), as a tool-driven interviewer does before each new question.

Example::

    >>> async with llm_server(first_token_delay=0.3) as base_url:    # doctest: +SKIP
    ...     llm = openai.LLM(base_url=base_url, api_key="bench", model="scripted-model")
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

from tests.support.openai_server import Reply, ScriptedOpenAI, ToolCall

REPLY = "Thank you, that is helpful. Could you tell me more about the trade-offs you made there?"
TOOL_MARKER = "[next]"
MODEL = "scripted-model"
START_TIMEOUT = 30.0


class BenchResponder:
    """Answers every request with :data:`REPLY` (or a `next_question` call first) after a fixed delay."""

    def __init__(self, first_token_delay: float):
        self.delay = first_token_delay

    def __call__(self, body: dict[str, Any]) -> Reply:
        msgs = body["messages"]
        last = msgs[-1]
        offers_tool = any(t["function"]["name"] == "next_question" for t in body.get("tools", []))
        if last["role"] == "user" and TOOL_MARKER in str(last["content"]) and offers_tool:
            return Reply(tool_calls=[ToolCall("next_question", {})], first_token_delay=self.delay)
        return Reply(text=REPLY, first_token_delay=self.delay)


async def _serve(first_token_delay: float) -> None:
    # a session closed while its request is in flight resets the connection: expected, not worth a traceback
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    server = ScriptedOpenAI(BenchResponder(first_token_delay), model=MODEL)
    server.requests = _Discard()  # type: ignore[assignment]  # nobody reads them; don't grow forever
    base_url = await server.start()
    sys.stdout.write(base_url + "\n")
    sys.stdout.flush()
    # serve until the parent closes our stdin (or dies)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await server.stop()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        pass


@contextlib.asynccontextmanager
async def llm_server(*, first_token_delay: float) -> AsyncIterator[str]:
    """Run the scripted LLM server in a child process; yields its base URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.llm_server", "--first-token-delay", str(first_token_delay),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT)
        if not line.startswith(b"http://127.0.0.1:"):
            raise RuntimeError(f"scripted LLM server did not start: {line!r}")
        yield line.decode().strip()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-token-delay", type=float, default=0.3)
    asyncio.run(_serve(parser.parse_args().first_token_delay))


if __name__ == "__main__":
    main()
