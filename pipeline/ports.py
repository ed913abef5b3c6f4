"""What the pipeline needs from the outside: somewhere to persist an interview, and someone to evaluate it.

The pipeline never imports storage/ or evaluation/; the app shell hands it objects with these shapes
(`storage.store.Store` is one sink, :class:`pipeline.journal.JournalSink` another). Sink methods are synchronous
and may block on I/O: the session calls them through `asyncio.to_thread`, one at a time, in order.

Example::

    >>> class Memory:
    ...     def __init__(self): self.turns = []
    ...     def create_interview(self, interview_id, **meta): pass
    ...     def append_turn(self, interview_id, turn): self.turns.append(turn)
    ...     def save_snapshot(self, interview_id, snapshot): pass
    >>> isinstance(Memory(), InterviewSink)
    True
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

from engine.phases import Level
from engine.snapshot import EngineSnapshot
from engine.transcript import InterviewRecord, Turn


@runtime_checkable
class InterviewSink(Protocol):
    def create_interview(
        self,
        interview_id: str,
        *,
        candidate_name: str | None,
        role: str | None,
        level: Level | None,
        started_at: datetime,
        config_hash: str | None,
    ) -> None:
        """Open the interview's record; called once, before any turn."""
        ...

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        """Persist one turn as it happens; idempotent on (interview_id, turn.index)."""
        ...

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        """Persist the engine's whole state (the latest one wins), so the interview can resume."""
        ...


OnFinished = Callable[[InterviewRecord], Awaitable[None]]
"""Called exactly once per interview with the finished record (e.g. to queue its evaluation)."""


class TeeSink:
    """Writes to several sinks in order, e.g. the local journal and the database: every sink gets every write even
    when one before it fails (a database error must not cost the journal line that keeps the turn); the first
    failure is raised once all have been tried, so the caller still hears of it.

    >>> TeeSink().append_turn("abc", Turn(index=0, speaker="agent", text="Hi"))  # no sinks: nothing happens
    """

    def __init__(self, *sinks: InterviewSink):
        self.sinks = sinks

    def _each(self, call: Callable[[InterviewSink], None]) -> None:
        failure: Exception | None = None
        for sink in self.sinks:
            try:
                call(sink)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def create_interview(self, interview_id: str, **meta: object) -> None:
        self._each(lambda sink: sink.create_interview(interview_id, **meta))  # type: ignore[arg-type]

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        self._each(lambda sink: sink.append_turn(interview_id, turn))

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        self._each(lambda sink: sink.save_snapshot(interview_id, snapshot))
