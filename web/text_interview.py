"""A typed interview over a WebSocket: the same AgentSession in text mode as `sima console --text`, no LiveKit.

Messages are JSON. The page sends `{"type": "answer", "text": ...}`; the server sends `{"type": "say", "text": ...}`
for each thing the interviewer says, `{"type": "progress", "sima.phase": ..., ...}` at each phase change (the same
keys the agent publishes as LiveKit attributes) and `{"type": "end"}` when the interview is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from engine.snapshot import Profile
from engine.transcript import InterviewRecord
from pipeline.console import run_text_console
from pipeline.worker import WorkerRuntime

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 4000  # a typed answer longer than this is cut: candidate input is untrusted


async def _answers(ws: WebSocket) -> AsyncIterator[str]:
    """The candidate's answers until they leave (the socket closes)."""
    while True:
        try:
            raw = await ws.receive_text()
        except WebSocketDisconnect:
            return
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        if isinstance(msg, dict) and msg.get("type") == "answer" and isinstance(msg.get("text"), str):
            yield msg["text"][:MAX_ANSWER_CHARS]


async def run_socket_interview(ws: WebSocket, runtime: WorkerRuntime, *, preset: Profile | None,
                               interview_id: str) -> InterviewRecord | None:
    """Run one typed interview for the candidate on `ws` (accepted already) and close it at the end."""
    outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def send() -> None:
        while (msg := await outbox.get()) is not None:
            await ws.send_json(msg)

    sender = asyncio.create_task(send(), name="sima-web-text-sender")
    record = None
    try:
        record = await run_text_console(
            runtime, lines=_answers(ws), write=lambda _speaker, text: outbox.put_nowait({"type": "say", "text": text}),
            preset=preset, interview_id=interview_id,
            on_progress=lambda attributes: outbox.put_nowait({"type": "progress", **attributes}))
    finally:
        outbox.put_nowait({"type": "end"})
        outbox.put_nowait(None)
        with contextlib.suppress(Exception):  # the candidate may have closed the page already
            await sender
            await ws.close()
    return record
