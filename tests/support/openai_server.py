"""A scripted OpenAI-compatible HTTP server on 127.0.0.1: the protocol is real, only the model is scripted.

`POST /v1/chat/completions` answers plain JSON or streamed SSE chunks (text deltas and tool calls), exactly as the
OpenAI API does; every request body is kept in `requests` so tests can assert what the model was sent.

`POST /v1/audio/transcriptions` (speech-to-text) answers with the text a `transcriber` makes of the uploaded WAV, and
`POST /v1/audio/speech` (text-to-speech) with a WAV that a `speaker` makes of the text (by default a tone whose length
follows the text); they are kept in `transcriptions` and `speech_requests`. Set `audio_status` to make both fail.

Example::

    async with ScriptedOpenAI(lambda body: Reply(text="Hello!")) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import time
import uuid
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import web


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")


@dataclass
class Reply:
    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    first_token_delay: float = 0.0  # seconds before the first chunk (models time to first token)
    chunk_delay: float = 0.0
    status: int = 200  # non-200: an error body is returned instead
    hang: bool = False  # never answer (a provider that stalls)
    cut_off: bool = False  # the text ends where max_tokens did (finish_reason "length")

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "length" if self.cut_off else "stop"


Responder = Callable[[dict[str, Any]], Reply | Awaitable[Reply]]
Transcriber = Callable[[bytes], str | Awaitable[str]]  # uploaded WAV bytes -> transcript
Speaker = Callable[[str], bytes]  # text -> WAV bytes

SPEECH_RATE = 24000


def tone_wav(text: str, *, rate: int = SPEECH_RATE, seconds_per_char: float = 0.01, max_seconds: float = 3.0) -> bytes:
    """A quiet 220 Hz tone as long as `text` would take to say (roughly), as 16-bit mono WAV."""
    seconds = min(max(len(text) * seconds_per_char, 0.1), max_seconds)
    t = np.arange(int(rate * seconds)) / rate
    samples = (0.2 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


class ScriptedOpenAI:
    def __init__(
        self,
        responder: Responder,
        *,
        model: str = "scripted-model",
        transcriber: Transcriber | None = None,
        speaker: Speaker = tone_wav,
    ):
        self.responder = responder
        self.model = model
        self.transcriber = transcriber or (lambda audio: "")
        self.speaker = speaker
        self.audio_status = 200  # non-200: the audio endpoints fail, as a provider that is down
        self.requests: list[dict[str, Any]] = []
        self.transcriptions: list[dict[str, Any]] = []  # form fields, plus the audio's size in bytes
        self.speech_requests: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_post("/v1/chat/completions", self._chat)
        self.app.router.add_get("/v1/models", self._models)
        self.app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self.app.router.add_post("/v1/audio/speech", self._speech)

    async def __aenter__(self) -> ScriptedOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    def _audio_error(self) -> web.Response:
        return web.json_response({"error": {"message": "scripted failure", "type": "server_error"}},
                                 status=self.audio_status)

    async def _transcribe(self, request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        audio = b""
        async for part in await request.multipart():
            if part.name == "file":
                audio = await part.read()  # type: ignore[union-attr]
            elif part.name:
                fields[part.name] = await part.text()  # type: ignore[union-attr]
        fields["audio_bytes"] = len(audio)
        self.transcriptions.append(fields)
        if self.audio_status != 200:
            return self._audio_error()
        text = self.transcriber(audio)
        if inspect.isawaitable(text):
            text = await text
        if fields.get("response_format") == "verbose_json":
            return web.json_response({"task": "transcribe", "language": "english", "duration": 1.0, "text": text})
        return web.json_response({"text": text})

    async def _speech(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.speech_requests.append(body)
        if self.audio_status != 200:
            return self._audio_error()
        return web.Response(body=self.speaker(body.get("input", "")), content_type="audio/wav")

    async def _reply_for(self, body: dict[str, Any]) -> Reply:
        result = self.responder(body)
        return await result if inspect.isawaitable(result) else result

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        reply = await self._reply_for(body)
        if reply.hang:
            await asyncio.sleep(3600)
        if reply.status != 200:
            return web.json_response({"error": {"message": "scripted failure", "type": "server_error"}},
                                     status=reply.status)
        await asyncio.sleep(reply.first_token_delay)
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if not body.get("stream"):
            return web.json_response(self._completion(cid, reply))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        for chunk in self._chunks(cid, reply):
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    def _completion(self, cid: str, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in reply.tool_calls
            ]
        return {
            "id": cid, "object": "chat.completion", "created": int(time.time()), "model": self.model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": reply.finish_reason}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    def _chunks(self, cid: str, reply: Reply) -> list[dict[str, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": self.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        out = [chunk({"role": "assistant", "content": ""})]
        if reply.text:
            words = reply.text.split(" ")
            out += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
        for i, c in enumerate(reply.tool_calls):
            out.append(chunk({"tool_calls": [{"index": i, "id": c.id, "type": "function",
                                              "function": {"name": c.name, "arguments": ""}}]}))
            out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": json.dumps(c.arguments)}}]}))
        out.append(chunk({}, reply.finish_reason))
        out.append({"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": self.model,
                    "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
        return out
