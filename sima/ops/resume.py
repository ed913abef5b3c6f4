"""Finding and loading unfinished interviews from the database and the journals, for resuming.

The database is the index (which interview runs in which room, for which invitation); the journal on this machine
may hold more than the database (turns written while it was down), so both are read and merged, and the database is
caught up from the journal before the interview goes on.

Example::

    >>> resumable = load_resumable(store, journal, "3f2a")      # doctest: +SKIP
    >>> resumable.snapshot.state, len(resumable.turns)          # doctest: +SKIP
    ('technical', 14)
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from engine.clock import FakeClock
from engine.interview import InterviewEngine
from engine.snapshot import EngineSnapshot
from engine.transcript import InterviewRecord, Turn
from pipeline.journal import Journal, JournalSink, replay
from pipeline.resume import Resumable
from sima.context import AppContext
from storage.store import Store

log = logging.getLogger(__name__)


class ResumeError(Exception):
    """An interview that cannot be resumed; the message says why."""


def _newer(a: EngineSnapshot | None, b: EngineSnapshot | None) -> EngineSnapshot | None:
    """The later of two snapshots of one interview (interview time only moves forward; ties go to `b`)."""
    if a is None or b is None:
        return a or b
    return a if (a.elapsed_seconds, len(a.asked)) > (b.elapsed_seconds, len(b.asked)) else b


def _merge(stored: list[Turn], journal: Journal) -> list[Turn]:
    by_index = {t.index: t for t in stored}
    by_index.update({t.index: t for t in journal.turns})  # the journal is written first: its copy is the whole one
    return [by_index[i] for i in sorted(by_index)]


def load_resumable(store: Store | None, journal: JournalSink, interview_id: str) -> Resumable:
    """The interview as last persisted (database and journal merged); raises ResumeError if there is none, or if
    it has ended. With `store` None, or a database that fails, the journal alone."""
    try:
        local = journal.read(interview_id)
    except ValueError as exc:  # an id that is not safe as a folder name
        raise ResumeError(str(exc)) from None
    stored_turns: list[Turn] = []
    stored_snapshot = None
    started_at = None
    if store is not None:
        try:
            info = store.interview(interview_id)
            if info is not None:
                stored_turns, stored_snapshot, started_at = (store.turns(interview_id),
                                                             store.load_snapshot(interview_id), info.started_at)
        except Exception:
            log.warning("interview %s: database unavailable; resuming from the journal alone", interview_id,
                        exc_info=True)
            store = None
    snapshot = _newer(stored_snapshot, local.snapshot)
    if snapshot is None:
        raise ResumeError(f"no interview '{interview_id}' with a saved state (database or journal)")
    if snapshot.end_reason is not None:
        raise ResumeError(f"interview '{interview_id}' has ended ({snapshot.end_reason}); nothing to resume")
    turns = _merge(stored_turns, local)
    if [t.index for t in turns] != list(range(len(turns))):
        raise ResumeError(f"interview '{interview_id}': turns {[t.index for t in turns]} have gaps")
    if started_at is None and local.interview is not None:
        started_at = datetime.fromisoformat(local.interview["started_at"])
    if store is not None and len(local.turns) > len(stored_turns):
        try:  # the database missed turns (it was down): give it the journal's before going on
            replay(local, store, interview_id)
        except Exception:
            log.warning("interview %s: could not catch the database up; the journal has it", interview_id,
                        exc_info=True)
    return Resumable(interview_id=interview_id, snapshot=snapshot, turns=turns,
                     started_at=started_at or datetime.now(UTC))


class StoreDirectory:
    """The :class:`~pipeline.resume.InterviewDirectory` of a worker: the database finds, both sources load."""

    def __init__(self, store: Store, journal: JournalSink):
        self.store = store
        self.journal = journal

    def find_unfinished(self, *, room: str | None, invitation_id: str | None) -> Resumable | None:
        interview_id = self.store.find_unfinished(room=room, invitation_id=invitation_id)
        if interview_id is None:
            return None
        try:
            return load_resumable(self.store, self.journal, interview_id)
        except ResumeError as exc:
            log.warning("not resuming: %s", exc)
            return None

    def set_location(self, interview_id: str, *, room: str | None, invitation_id: str | None) -> None:
        self.store.set_location(interview_id, room=room, invitation_id=invitation_id)


async def end_abandoned(store: Store, journal: JournalSink, app: AppContext, *, now: datetime) -> list[str]:
    """End every unfinished interview not touched for `resume.abandon_after_hours` — the engine ends it, as
    'abandoned', from its last state — and queue its evaluation; return their ids."""
    cutoff = now - timedelta(hours=app.config.resume.abandon_after_hours)
    ended = []
    for info in store.interviews(unfinished=True):
        if info.updated_at >= cutoff:
            continue
        try:
            resumable = load_resumable(store, journal, info.id)
        except ResumeError as exc:
            log.warning("abandoned interview %s: %s", info.id, exc)
            continue
        engine = InterviewEngine.restore(resumable.snapshot, app.config.interview, app.banks, FakeClock())
        await engine.end("abandoned")
        snapshot = engine.snapshot()
        store.save_snapshot(info.id, snapshot)
        record = InterviewRecord.build(snapshot, resumable.turns, app.banks, resumable.started_at, info.config_hash)
        store.enqueue_evaluation(info.id, record)
        log.info("interview %s: nobody resumed it since %s; ended as abandoned, evaluation queued", info.id,
                 info.updated_at.isoformat(timespec="minutes"))
        ended.append(info.id)
    return ended
