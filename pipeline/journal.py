"""A per-interview JSON-lines journal: the pipeline's own durable record, with no database.

Every turn and snapshot is appended to `<root>/<interview_id>/journal.jsonl` and fsync'd as it happens, so a crash
loses at most the line being written (a torn last line is skipped on reading). The latest snapshot wins on resume.
:class:`ReplayingSink` puts a sink that can fail (the database) behind the journal, on a thread of its own: once a
write to it fails, the journal is replayed into it (again and again, with backoff) until it takes it, so turns
written while the database was down reach it when it is back.

Example::

    >>> import tempfile
    >>> sink = JournalSink(Path(tempfile.mkdtemp()))
    >>> sink.append_turn("3f2a", Turn(index=0, speaker="agent", text="Hello"))
    >>> sink.read("3f2a").turns[0].text
    'Hello'
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.phases import Level
from engine.snapshot import EngineSnapshot
from engine.transcript import Turn
from pipeline.ports import InterviewSink

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.jsonl"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def safe_interview_id(interview_id: str) -> str:
    """The id, if it is safe as a folder name; ids can come from room metadata, so no path tricks.

    >>> safe_interview_id("../etc")
    Traceback (most recent call last):
    ...
    ValueError: unsafe interview id '../etc': use letters, digits, '-' and '_'
    """
    if not _SAFE_ID.match(interview_id):
        raise ValueError(f"unsafe interview id {interview_id!r}: use letters, digits, '-' and '_'")
    return interview_id


@dataclass
class Journal:
    """What a journal holds: the interview's opening facts, its turns in order, and its latest snapshot."""

    interview: dict[str, Any] | None = None
    turns: list[Turn] = field(default_factory=list)
    snapshot: EngineSnapshot | None = None
    snapshots: int = 0


def read_journal(path: Path) -> Journal:
    journal = Journal()
    if not path.exists():
        return journal
    turns: dict[int, Turn] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entry = json.loads(line)
            kind = entry["kind"]
            if kind == "interview":
                journal.interview = entry["interview"]
            elif kind == "turn":
                turn = Turn.model_validate(entry["turn"])
                turns.setdefault(turn.index, turn)
            elif kind == "snapshot":
                journal.snapshot = EngineSnapshot.model_validate(entry["snapshot"])
                journal.snapshots += 1
        except (ValueError, KeyError, ValidationError) as exc:
            # a crash can tear the last line; anything else is worth a warning too, but not a failure
            log.warning("%s:%d: skipped unreadable journal line (%s)", path, n, exc)
    journal.turns = [turns[i] for i in sorted(turns)]
    return journal


class JournalSink:
    """An :class:`~pipeline.ports.InterviewSink` writing JSON lines under `root`; safe to share between sessions."""

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()
        self._written: dict[str, set[int]] = {}  # turn indexes already in each journal

    def path(self, interview_id: str) -> Path:
        return self.root / safe_interview_id(interview_id) / JOURNAL_FILE

    def read(self, interview_id: str) -> Journal:
        return read_journal(self.path(interview_id))

    def create_interview(
        self,
        interview_id: str,
        *,
        candidate_name: str | None,
        role: str | None,
        level: Level | None,
        started_at: datetime,
        config_hash: str | None,
        room: str | None = None,
        invitation_id: str | None = None,
    ) -> None:
        facts = {"interview_id": interview_id, "candidate_name": candidate_name, "role": role,
                 "level": level.value if level else None, "started_at": started_at.isoformat(),
                 "config_hash": config_hash, "room": room, "invitation_id": invitation_id}
        self._append(interview_id, {"kind": "interview", "interview": facts})

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        with self._lock:
            written = self._written.get(interview_id)
            if written is None:
                written = self._written[interview_id] = {t.index for t in self.read(interview_id).turns}
            if turn.index in written:
                return
            written.add(turn.index)
        self._append(interview_id, {"kind": "turn", "turn": turn.model_dump(mode="json")})

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        self._append(interview_id, {"kind": "snapshot", "snapshot": snapshot.model_dump(mode="json")})

    def _append(self, interview_id: str, entry: dict[str, Any]) -> None:
        path = self.path(interview_id)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())


def replay(journal: Journal, sink: InterviewSink, interview_id: str) -> int:
    """Write everything `journal` holds into `sink` (idempotent: turns are upserts, the snapshot is the latest);
    return how many turns were written."""
    facts = journal.interview
    if facts is not None:
        sink.create_interview(
            interview_id, candidate_name=facts.get("candidate_name"), role=facts.get("role"),
            level=Level(facts["level"]) if facts.get("level") else None,
            started_at=datetime.fromisoformat(facts["started_at"]), config_hash=facts.get("config_hash"))
    for turn in journal.turns:
        sink.append_turn(interview_id, turn)
    if journal.snapshot is not None:
        sink.save_snapshot(interview_id, journal.snapshot)
    return len(journal.turns)


class ReplayingSink:
    """`primary` (the database) fed from a thread of its own, kept whole from `journal` (which the caller's TeeSink
    writes first): a write never waits for the database, so a database that hangs or is down holds up neither the
    interview nor its journal. After a failed write the interview is behind; the thread then replays its journal into
    `primary` (retrying with backoff, for as long as it takes) before writing anything more for it."""

    def __init__(self, primary: InterviewSink, journal: JournalSink, *, retry_seconds: float = 1.0,
                 max_retry_seconds: float = 30.0, on_failure: Callable[[], None] = lambda: None):
        self.primary = primary
        self.journal = journal
        self.on_failure = on_failure  # each failed write or replay (a metric)
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.behind: set[str] = set()
        self._queue: queue.Queue[tuple[str, Callable[[], None]]] = queue.Queue()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name="sima-db-writer", daemon=True)
        self._thread.start()

    def _put(self, interview_id: str, write: Callable[[], None]) -> None:
        with self._idle:
            self._busy += 1
        self._queue.put((interview_id, write))

    def _catch_up(self, interview_id: str) -> None:
        written = replay(self.journal.read(interview_id), self.primary, interview_id)
        self.behind.discard(interview_id)
        log.info("interview %s: the database is back; replayed %d turns from the journal", interview_id, written)

    def _run(self) -> None:
        delay = self.retry_seconds
        while True:
            try:
                interview_id, write = self._queue.get(timeout=delay if self.behind else None)
            except queue.Empty:
                interview_id, write = next(iter(self.behind)), None  # nothing new: retry the replay
            try:
                if interview_id in self.behind:
                    self._catch_up(interview_id)
                if write is not None:
                    write()
                delay = self.retry_seconds
            except Exception:
                self.on_failure()
                if interview_id not in self.behind:
                    log.warning("interview %s: database write failed; the journal keeps it and it is replayed when "
                                "the database is back", interview_id, exc_info=True)
                self.behind.add(interview_id)
                delay = min(delay * 2, self.max_retry_seconds)
            finally:
                if write is not None:
                    with self._idle:
                        self._busy -= 1
                        self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every write so far reached `primary` (replays included); False if it is still behind."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy or self.behind:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def create_interview(self, interview_id: str, **meta: Any) -> None:
        self._put(interview_id, lambda: self.primary.create_interview(interview_id, **meta))

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        self._put(interview_id, lambda: self.primary.append_turn(interview_id, turn))

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        self._put(interview_id, lambda: self.primary.save_snapshot(interview_id, snapshot))
