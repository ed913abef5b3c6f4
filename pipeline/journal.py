"""A per-interview JSON-lines journal: the pipeline's own durable record, with no database.

Every turn and snapshot is appended to `<root>/<interview_id>/journal.jsonl` and fsync'd as it happens, so a crash
loses at most the line being written (a torn last line is skipped on reading). The latest snapshot wins on resume.

Example::

    >>> sink = JournalSink(Path("runs"))                                        # doctest: +SKIP
    >>> sink.append_turn("3f2a", Turn(index=0, speaker="agent", text="Hello"))  # doctest: +SKIP
    >>> sink.read("3f2a").turns[0].text                                         # doctest: +SKIP
    'Hello'
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.phases import Level
from engine.snapshot import EngineSnapshot
from engine.transcript import Turn

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
    ) -> None:
        facts = {"interview_id": interview_id, "candidate_name": candidate_name, "role": role,
                 "level": level.value if level else None, "started_at": started_at.isoformat(),
                 "config_hash": config_hash}
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
