"""Resuming an interrupted interview, and holding it open while a dropped candidate rejoins.

A job that starts in a room whose interview is unfinished (a crashed worker, a dropped connection) gets it back from
an :class:`InterviewDirectory` — the app's database and journal — as a :class:`Resumable`: the engine's last snapshot
(same phase, remaining budgets, asked questions) and the transcript, which also becomes the agent's chat context
again. When the candidate drops out of a room, :class:`RejoinWatch` waits `rejoin_grace_seconds` for them before the
interview ends; with `clock_runs_while_away: false` the interview clock (budgets, timers, the hard limit) is paused
meanwhile by :class:`PausableClock`.

Example::

    >>> import asyncio
    >>> from engine.clock import FakeClock
    >>> clock = PausableClock(FakeClock())
    >>> clock.pause(); clock.inner.advance(30); clock.now()
    0.0
    >>> clock.unpause(); clock.inner.advance(5); clock.now()
    5.0
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import Field

from engine.clock import Clock, sleep_or_wake
from engine.settings import Strict
from engine.snapshot import EngineSnapshot
from engine.transcript import Speaker, Turn

if TYPE_CHECKING:
    from livekit.agents import llm

log = logging.getLogger(__name__)


class ResumeSettings(Strict):
    """The `resume:` section of config.yaml."""

    rejoin_grace_seconds: float = Field(default=120, ge=0, description="how long a dropped candidate may take to "
                                        "rejoin the room before the interview ends; 0 ends it at once")
    clock_runs_while_away: bool = Field(default=False, description="whether interview time (phase budgets, the "
                                        "hard limit) keeps running while the candidate is away")
    abandon_after_hours: float = Field(default=24, gt=0, description="an unfinished interview nobody resumed for "
                                       "this long is ended as 'abandoned' and evaluated (by the evaluation workers)")


@dataclass(frozen=True)
class Resumable:
    """An unfinished interview as it was last persisted."""

    interview_id: str
    snapshot: EngineSnapshot
    turns: list[Turn]
    started_at: datetime


class InterviewDirectory(Protocol):
    """Where a job finds an unfinished interview to resume (the app's database and journals)."""

    def find_unfinished(self, *, room: str | None, invitation_id: str | None) -> Resumable | None:
        """The interview to resume for this invitation (if given) or room, or None."""
        ...

    def set_location(self, interview_id: str, *, room: str | None, invitation_id: str | None) -> None:
        """Remember the room and invitation the interview runs in, so a later job there finds it."""
        ...


def chat_context(turns: list[Turn]) -> llm.ChatContext:
    """The transcript as the agent's chat history (agent turns as the assistant, the candidate's as the user).

    >>> ctx = chat_context([Turn(index=0, speaker="agent", text="Hello"), Turn(index=1, speaker="candidate",
    ...                                                                        text="Hi")])
    >>> [(m.role, m.text_content) for m in ctx.items]
    [('assistant', 'Hello'), ('user', 'Hi')]
    """
    from livekit.agents import llm  # here: config loading imports this module, and livekit is slow to import

    ctx = llm.ChatContext.empty()
    for turn in turns:
        ctx.add_message(role="assistant" if turn.speaker is Speaker.AGENT else "user", content=turn.text,
                        interrupted=turn.interrupted)
    return ctx


class PausableClock:
    """A clock that can stand still: while paused, `now()` does not move and sleepers wait."""

    def __init__(self, inner: Clock):
        self.inner = inner
        self._offset = 0.0  # inner time spent paused
        self._paused_at: float | None = None
        self._changed = asyncio.Event() if _has_loop() else None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now(self) -> float:
        inner = self._paused_at if self._paused_at is not None else self.inner.now()
        return inner - self._offset

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.inner.now()
            self._signal()

    def unpause(self) -> None:
        if self._paused_at is not None:
            self._offset += self.inner.now() - self._paused_at
            self._paused_at = None
            self._signal()

    def _signal(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def sleep_until(self, deadline: float) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        while True:
            self._changed.clear()
            if self._paused_at is not None:
                await self._changed.wait()  # paused: only a change wakes us
                continue
            remaining = deadline - self.now()
            if remaining <= 0:
                return
            await sleep_or_wake(self.inner.sleep_until(self.inner.now() + remaining), self._changed)


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class RejoinWatch:
    """Holds an interview open while its candidate is away: `left()` starts the grace period, `rejoined()` ends it;
    if it runs out, `on_timeout` ends the interview. The clock is paused meanwhile unless the settings say not."""

    def __init__(self, settings: ResumeSettings, clock: PausableClock, on_timeout: Callable[[], Awaitable[None]],
                 on_rejoined: Callable[[], Awaitable[None]] | None = None):
        self.settings = settings
        self.clock = clock
        self.on_timeout = on_timeout
        self.on_rejoined = on_rejoined
        self._grace: asyncio.Task[None] | None = None
        self._welcome: asyncio.Task[None] | None = None

    @property
    def away(self) -> bool:
        return self._grace is not None

    def left(self) -> None:
        if self._grace is not None:
            return
        if not self.settings.clock_runs_while_away:
            self.clock.pause()
        log.info("candidate left; waiting %.0f s for them to rejoin", self.settings.rejoin_grace_seconds)
        self._grace = asyncio.create_task(self._wait(), name="sima-rejoin-grace")

    async def _wait(self) -> None:
        await asyncio.sleep(self.settings.rejoin_grace_seconds)
        log.info("candidate did not rejoin within %.0f s; ending the interview", self.settings.rejoin_grace_seconds)
        self._grace = None
        self.clock.unpause()
        await self.on_timeout()

    def rejoined(self) -> None:
        if self._grace is None:
            return
        self._grace.cancel()
        self._grace = None
        self.clock.unpause()
        log.info("candidate rejoined")
        if self.on_rejoined is not None:
            self._welcome = asyncio.create_task(self.on_rejoined(), name="sima-rejoined")

    async def aclose(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._grace
            self._grace = None
