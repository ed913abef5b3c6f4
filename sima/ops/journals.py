"""Journals into the database: what an interview's journal holds that the database does not (turns written while it
was down, an end it never heard of) is replayed into it, and an interview that ended is queued for evaluation.
`sima db replay` runs this by hand; every `sima evaluations worker` runs it on its beat.

Example::

    >>> replay_journals(store, app)    # doctest: +SKIP
    ReplaySummary(journals=3, replayed=['3f2a'], queued=['3f2a'], failed=[])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from engine.transcript import InterviewRecord
from pipeline.journal import JOURNAL_FILE, read_journal, replay
from sima.context import AppContext
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class ReplaySummary:
    journals: int = 0
    replayed: list[str] = field(default_factory=list)  # interviews the database was missing something of
    queued: list[str] = field(default_factory=list)  # ended interviews whose evaluation was queued now
    failed: list[str] = field(default_factory=list)


def replay_journals(store: Store, app: AppContext, *, since: float | None = None) -> ReplaySummary:
    """Bring the database up to every journal under `paths.runs` (only those changed after `since`, a Unix time)."""
    summary = ReplaySummary()
    for path in sorted(app.config.paths.runs.glob(f"*/{JOURNAL_FILE}")):
        if since is not None and path.stat().st_mtime < since:
            continue
        summary.journals += 1
        interview_id = path.parent.name
        try:
            journal = read_journal(path)
            if journal.snapshot is None:
                continue
            info = store.interview(interview_id)
            behind = (info is None or len(store.turns(interview_id)) < len(journal.turns)
                      or (journal.snapshot.end_reason is not None and info.ended_at is None))
            if behind:
                replay(journal, store, interview_id)
                summary.replayed.append(interview_id)
            if journal.snapshot.end_reason is not None and not store.has_job(interview_id):
                facts = journal.interview or {}
                started_at = (datetime.fromisoformat(facts["started_at"]) if facts.get("started_at")
                              else store.interview(interview_id).started_at)  # type: ignore[union-attr]
                record = InterviewRecord.build(journal.snapshot, journal.turns, app.banks, started_at,
                                               facts.get("config_hash"))
                store.enqueue_evaluation(interview_id, record)
                summary.queued.append(interview_id)
        except Exception:
            log.exception("journal %s: could not replay it into the database", path)
            summary.failed.append(interview_id)
    if summary.replayed or summary.queued:
        log.info("journals replayed into the database: %s; evaluations queued: %s",
                 ", ".join(summary.replayed) or "none", ", ".join(summary.queued) or "none")
    return summary
