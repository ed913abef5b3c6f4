"""The llama.cpp server: starts, answers OpenAI clients on 127.0.0.1 (text and tool calls), stops without orphans."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from livekit.agents import llm

from pipeline.local.llama_server import LlamaServer, LlamaServerError, answers
from pipeline.local.qwen_chat import CHAT_FORMAT
from pipeline.registry import BuildContext, build_one
from pipeline.settings import ProviderSpec
from tests.local.conftest import LLM_MODEL

log = logging.getLogger(__name__)

INTERVIEWER = "You are a job interviewer. Ask one short question at a time."
GREETING = "Hi, I'm Ana, a backend developer with five years of experience in Python and Postgres."
RECORD_PROFILE = {
    "type": "function",
    "function": {
        "name": "record_profile",
        "description": "Record the candidate's role and years of experience.",
        "parameters": {
            "type": "object",
            "properties": {"role": {"type": "string"}, "years": {"type": "integer"}},
            "required": ["role", "years"],
        },
    },
}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.local_models
async def test_server_answers_a_chat_completion(llama_server: LlamaServer) -> None:
    assert llama_server.base_url.startswith("http://127.0.0.1:") and llama_server.base_url.endswith("/v1")
    client = openai.AsyncOpenAI(base_url=llama_server.base_url, api_key="local")

    models = await client.models.list()
    started = time.perf_counter()
    stream = await client.chat.completions.create(
        model=llama_server.model_name,
        messages=[{"role": "system", "content": INTERVIEWER}, {"role": "user", "content": GREETING}],
        max_tokens=48,
        temperature=0,
        stream=True,
    )
    arrivals = [time.perf_counter() async for chunk in stream if chunk.choices and chunk.choices[0].delta.content]
    await client.close()

    assert [m.id for m in models.data] == [LLM_MODEL]
    assert len(arrivals) > 3
    log.info("llama: startup %.2f s, ttft %.2f s, decode %.1f chunks/s", llama_server.startup_seconds,
             arrivals[0] - started, (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]))


@pytest.mark.local_models
async def test_automatic_tool_choice_streams_an_openai_tool_call(llama_server: LlamaServer) -> None:
    client = openai.AsyncOpenAI(base_url=llama_server.base_url, api_key="local")
    system = INTERVIEWER + " When the candidate states their role and experience, call record_profile."

    stream = await client.chat.completions.create(
        model=llama_server.model_name,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": GREETING}],
        tools=[RECORD_PROFILE],
        tool_choice="auto",
        temperature=0,
        max_tokens=96,
        stream=True,
    )
    calls, finish = [], None
    async for chunk in stream:
        calls += chunk.choices[0].delta.tool_calls or []
        finish = chunk.choices[0].finish_reason or finish
    await client.close()

    (call,) = calls
    assert call.function.name == "record_profile"
    assert isinstance(json.loads(call.function.arguments), dict)
    assert finish == "tool_calls"


@pytest.mark.local_models
async def test_registry_entry_starts_a_server_and_hands_it_to_the_caller(model_cache: Path, gguf: object) -> None:
    ctx = BuildContext(cache_dir=model_cache, setting="profiles.local.llm[0]")
    model = build_one("llm", ProviderSpec(provider="llama-cpp", model=LLM_MODEL, options={"n_ctx": 2048}), ctx)
    (server,) = ctx.services
    pid = server.pid
    try:
        assert isinstance(server, LlamaServer) and server.running and server.n_ctx == 2048
        chat = llm.ChatContext()
        chat.add_message(role="user", content="Say hello in one short sentence.")
        async with model.chat(chat_ctx=chat) as stream:
            text = "".join([chunk.delta.content async for chunk in stream if chunk.delta and chunk.delta.content])
        assert text.strip()
    finally:
        await server.aclose()
    assert pid and gone(pid)
    assert not answers(f"{server.base_url}/models")


@pytest.mark.local_models
def test_registry_entry_connects_to_a_running_server(llama_server: LlamaServer) -> None:
    ctx = BuildContext(setting="profiles.local.llm[0]")

    build_one("llm", ProviderSpec(provider="llama-cpp", model=LLM_MODEL, base_url=llama_server.base_url), ctx)

    assert ctx.services == []  # nothing started, nothing to stop


@pytest.mark.local_models
async def test_context_manager_stops_the_process(gguf: tuple[Path, float]) -> None:
    async with LlamaServer(gguf[0], model_name=LLM_MODEL) as server:
        pid, url = server.pid, f"{server.base_url}/models"
        assert pid and answers(url)

    assert not server.running and gone(pid)
    assert not answers(url)


@pytest.mark.local_models
def test_server_dies_with_its_parent(gguf: tuple[Path, float]) -> None:
    script = (
        "import sys, time; from pathlib import Path; from pipeline.local.llama_server import LlamaServer\n"
        f"s = LlamaServer(Path({str(gguf[0])!r}), model_name='m'); s.start(); print(s.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert not gone(pid)
        parent.send_signal(signal.SIGKILL)  # no cleanup code runs in the parent
        parent.wait()
        deadline = time.monotonic() + 15
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone(pid)
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.local_models
async def test_startup_failure_reports_the_servers_stderr(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file" * 100)
    server = LlamaServer(bogus, model_name="bogus", startup_timeout=60)

    with pytest.raises(LlamaServerError, match=r"exited with code \d+ while starting:\n(.|\n)*bogus\.gguf"):
        async with server:
            pass
    assert not server.running


def test_command_carries_the_settings(tmp_path: Path) -> None:
    server = LlamaServer(tmp_path / "m.gguf", model_name="m", n_ctx=2048, n_threads=3)
    server.port = 1234

    cmd = " ".join(server.command())

    assert "-m pipeline.local.llama_entry" in cmd and "--host 127.0.0.1 --port 1234" in cmd
    assert "--n_ctx 2048" in cmd and "--n_threads 3" in cmd and f"--chat_format {CHAT_FORMAT}" in cmd
    assert "--logits_all False" in cmd


def test_stop_is_idempotent_and_safe_before_start(tmp_path: Path) -> None:
    server = LlamaServer(tmp_path / "m.gguf", model_name="m")
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url


@pytest.mark.local_models
async def test_two_requests_at_once_are_both_answered(llama_server: LlamaServer) -> None:
    client = openai.AsyncOpenAI(base_url=llama_server.base_url, api_key="local")

    async def ask(question: str) -> str:
        r = await client.chat.completions.create(
            model=llama_server.model_name, messages=[{"role": "user", "content": question}], max_tokens=16
        )
        return r.choices[0].message.content or ""

    answers_ = await asyncio.gather(ask("Name a colour."), ask("Name a fruit."))
    await client.close()
    assert all(a.strip() for a in answers_)
