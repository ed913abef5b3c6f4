"""Be interviewed in a terminal by typing: the same interview as in a room, with no LiveKit server and no audio.

The candidate types an answer per line; everything the agent says (including what timers make it say) is printed as
it is said. The interview ends when the agent says goodbye, at end of input (Ctrl-D) or on Ctrl-C.

Example::

    >>> await run_text_console(runtime, lines=stdin_lines(), write=print)   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable

from livekit.agents import llm
from livekit.agents.voice.events import ConversationItemAddedEvent

from engine.snapshot import Profile
from engine.transcript import InterviewRecord
from pipeline.progress import progress_attributes
from pipeline.providers import build_stack, stop_services
from pipeline.resume import Resumable
from pipeline.session import InterviewSession
from pipeline.worker import WorkerRuntime

log = logging.getLogger(__name__)

CLOSE_GRACE_SECONDS = 5.0  # a session that refuses input and is closing sends its close event within this


async def stdin_lines() -> AsyncIterator[str]:
    """Lines typed on standard input, read by a daemon thread so a pending read never holds up the exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="sima-console-input", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


async def _closes(closed: asyncio.Event) -> bool:
    """Whether the session's close event comes within the grace period."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(closed.wait(), CLOSE_GRACE_SECONDS)
    return closed.is_set()


async def run_text_console(
    runtime: WorkerRuntime,
    *,
    lines: AsyncIterator[str],
    write: Callable[[str, str], None],
    preset: Profile | None = None,
    interview_id: str | None = None,
    on_progress: Callable[[dict[str, str]], None] | None = None,
    resume: Resumable | None = None,
) -> InterviewRecord | None:
    """Run one typed interview (or continue `resume`); `write(speaker, text)` shows each turn once it has been
    handed to the sink, so a line the candidate has read is never lost. Returns the finished record.

    `preset` and `interview_id` are the web app's (from an invitation); `on_progress` gets the phase and time left
    (:func:`pipeline.progress.progress_attributes`) at every engine event.
    """
    stack = build_stack(runtime.setup.profile, runtime.build_ctx, runtime.setting_prefix, audio=False)
    interview = InterviewSession(runtime.setup, stack, runtime.sink, on_finished=runtime.on_finished,
                                 clock=runtime.clock, preset=preset, interview_id=interview_id,
                                 snapshot=resume.snapshot if resume else None,
                                 previous_turns=resume.turns if resume else None,
                                 started_at=resume.started_at if resume else None)
    if on_progress is not None:
        interview.engine.subscribe(lambda _event: on_progress(progress_attributes(interview.engine)))
    closed = asyncio.Event()
    shown: list[asyncio.Future[None]] = []

    async def show_when_kept(text: str) -> None:
        with contextlib.suppress(TimeoutError):  # after the interview's end nothing more is written: show it
            await asyncio.wait_for(interview.flush(), CLOSE_GRACE_SECONDS)
        write("SIMA", text)

    def show(ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "assistant" and ev.item.text_content:
            shown.append(asyncio.ensure_future(show_when_kept(ev.item.text_content)))

    interview.session.on("conversation_item_added", show)
    interview.session.on("close", lambda _: closed.set())

    def accepting() -> bool:
        return not closed.is_set() and not (interview.agent is not None and interview.agent.closing)

    await interview.start(capture_run=True)
    ended = asyncio.ensure_future(closed.wait())
    try:
        while accepting():
            typed = asyncio.ensure_future(anext(lines, None))
            await asyncio.wait({typed, ended}, return_when=asyncio.FIRST_COMPLETED)
            if not typed.done():
                typed.cancel()
                break
            text = typed.result()
            if text is None:
                break  # end of input: the candidate left
            if not text.strip():
                continue
            if not accepting():
                break  # the goodbye was said while the line was typed: nobody is listening any more
            try:
                await interview.session.run(user_input=text.strip())
            except RuntimeError:
                # a session refusing input is closing on its own (say, after repeated provider errors)
                if not await _closes(closed):
                    raise
                log.info("the session closed while a typed line was on its way; the line is dropped")
                break
    finally:
        ended.cancel()
        # the goodbye closes the session itself; otherwise the candidate stopped typing
        record = await interview.aclose(reason="candidate_left")
        await asyncio.gather(*shown, return_exceptions=True)
        await stop_services(runtime.build_ctx)
    return record
