"""The store: interviews, turns written one by one, engine snapshots, evaluations and a durable evaluation queue.

Synchronous SQLAlchemy 2; async callers (the pipeline, the evaluation worker) use `asyncio.to_thread`. A SQLite file
by default (WAL, foreign keys on, its folder created), Postgres by URL; opening a store brings its schema up to date
(:mod:`storage.migrate`). The queue is a table: a job is claimed with one atomic `UPDATE ... RETURNING` (on Postgres
its subquery takes the row `FOR UPDATE SKIP LOCKED`), held by a lease the worker renews, and claimable again once a
lease expires, so a worker that dies loses nothing. Given `webhook_urls`, the end of an interview and a stored
evaluation also write their webhook deliveries (:mod:`storage.outbox`), in the same transaction.

Example::

    >>> import tempfile
    >>> from datetime import UTC, datetime
    >>> from engine.snapshot import EngineSnapshot
    >>> from engine.transcript import Turn
    >>> store = Store(f"sqlite:///{tempfile.mkdtemp()}/sima.db")
    >>> store.create_interview("iv-1", candidate_name=None, role=None, level=None,
    ...                        started_at=datetime.now(UTC), config_hash=None, room="room-1")
    >>> store.append_turn("iv-1", Turn(index=0, speaker="agent", text="Hello"))
    >>> store.save_snapshot("iv-1", EngineSnapshot(interview_id="iv-1", state="introduction", elapsed_seconds=4))
    >>> store.find_unfinished(room="room-1"), [t.text for t in store.turns("iv-1")]
    ('iv-1', ['Hello'])
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.phases import Level
from engine.snapshot import EngineSnapshot
from engine.transcript import InterviewRecord, Turn, TurnMetrics
from storage.migrate import upgrade
from storage.models import (
    DeliveryStatus,
    EvaluationRow,
    InterviewRow,
    JobRow,
    JobStatus,
    TurnRow,
    WebhookDeliveryRow,
    utcnow,
)

log = logging.getLogger(__name__)


class StorageError(Exception):
    """A storage URL or call that cannot work; the message says what to change."""


@dataclass(frozen=True)
class JobInfo:
    id: int
    interview_id: str
    candidate_name: str | None
    position: str | None
    status: JobStatus
    attempts: int
    last_error: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    retry_at: datetime | None = None  # a failed job is claimed again from then (None: by `retry` only)


@dataclass(frozen=True)
class InterviewInfo:
    id: str
    candidate_name: str | None
    role: str | None
    level: str | None
    started_at: datetime | None
    config_hash: str | None
    room: str | None
    invitation_id: str | None
    ended_at: datetime | None
    end_reason: str | None
    consent_at: datetime | None
    consent_text: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    interview_id: str
    record: InterviewRecord
    output_dir: str | None
    owner: str


@dataclass(frozen=True)
class StoredEvaluation:
    id: int
    interview_id: str
    job_id: int | None
    overall_score: float
    decision: str
    role_fit_percentage: int
    report: dict[str, Any]
    json_path: str
    html_path: str
    created_at: datetime


def normalise_url(url: str) -> URL:
    """Accept plain `postgresql://` URLs (psycopg 3 is the installed driver); refuse other databases.

    >>> normalise_url("postgres://u@h/db").drivername, normalise_url("sqlite:///x.db").drivername
    ('postgresql+psycopg', 'sqlite')
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise StorageError(f"storage.url: unsupported database '{backend}'; use sqlite:///file.db or postgresql://")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer (a worker beside a live interview)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _turn_from_row(row: TurnRow) -> Turn:
    return Turn(index=row.idx, speaker=row.speaker, text=row.text, started_at=row.started_at,  # type: ignore[arg-type]
                ended_at=row.ended_at, phase=row.phase, question_id=row.question_id,  # type: ignore[arg-type]
                stt_confidence=row.stt_confidence, interrupted=row.interrupted,
                metrics=TurnMetrics.model_validate(row.metrics) if row.metrics else None)


def _interview_info(row: InterviewRow) -> InterviewInfo:
    return InterviewInfo(id=row.id, candidate_name=row.candidate_name, role=row.role, level=row.level,
                         started_at=row.started_at, config_hash=row.config_hash, room=row.room,
                         invitation_id=row.invitation_id, ended_at=row.ended_at, end_reason=row.end_reason,
                         consent_at=row.consent_at, consent_text=row.consent_text, created_at=row.created_at,
                         updated_at=row.updated_at)


def _job_info(row: JobRow) -> JobInfo:
    return JobInfo(id=row.id, interview_id=row.interview_id, candidate_name=row.record.get("candidate_name"),
                   position=row.record.get("position"), status=JobStatus(row.status), attempts=row.attempts,
                   last_error=row.last_error, lease_owner=row.lease_owner, lease_expires_at=row.lease_expires_at,
                   retry_at=row.retry_at,
                   created_at=row.created_at, updated_at=row.updated_at)


class Store:
    def __init__(self, url: str, *, migrate: bool = True, webhook_urls: Sequence[str] = ()):
        self.url = normalise_url(url)
        self.webhook_urls = list(webhook_urls)  # where "interview.finished" and "evaluation.done" go
        self.dialect = self.url.get_backend_name()
        self.engine: Engine = self._create_engine()
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            upgrade(self.engine)

    def _create_engine(self) -> Engine:
        if self.dialect == "postgresql":
            return create_engine(self.url, pool_pre_ping=True)
        database = self.url.database or ""
        if database in ("", ":memory:"):
            raise StorageError("storage.url: SQLite needs a file (sqlite:///path/to/sima.db), not in-memory")
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # A busy timeout, so a second process waits for the write lock instead of failing at once.
        engine = create_engine(self.url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return self._session()

    def _insert(self) -> Any:
        return postgresql.insert if self.dialect == "postgresql" else sqlite.insert

    # --- interviews, turns, snapshots ---

    def create_interview(self, interview_id: str, *, candidate_name: str | None, role: str | None,
                         level: Level | str | None, started_at: datetime | None, config_hash: str | None,
                         room: str | None = None, invitation_id: str | None = None) -> None:
        """Record an interview; calling it again for the same id (a resumed interview) changes nothing."""
        stmt = self._insert()(InterviewRow).values(
            id=interview_id, candidate_name=candidate_name, role=role, level=str(level) if level else None,
            started_at=started_at, config_hash=config_hash, room=room, invitation_id=invitation_id,
            created_at=utcnow(), updated_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["id"])
        with self.session() as s, s.begin():
            s.execute(stmt)

    def set_location(self, interview_id: str, *, room: str | None, invitation_id: str | None) -> None:
        """Where the interview runs (its LiveKit room, its invitation), so a job starting there can resume it."""
        with self.session() as s, s.begin():
            s.execute(update(InterviewRow).where(InterviewRow.id == interview_id)
                      .values(room=room, invitation_id=invitation_id, updated_at=utcnow()))

    def record_consent(self, interview_id: str, *, text: str, at: datetime) -> None:
        """The candidate's consent (the words they agreed to, and when), kept with the interview."""
        with self.session() as s, s.begin():
            done = s.execute(update(InterviewRow).where(InterviewRow.id == interview_id)
                             .values(consent_text=text, consent_at=at, updated_at=utcnow()))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise StorageError(f"no interview '{interview_id}'")

    def interview(self, interview_id: str) -> InterviewInfo | None:
        with self.session() as s:
            row = s.get(InterviewRow, interview_id)
            return _interview_info(row) if row else None

    def interviews(self, *, unfinished: bool = False) -> list[InterviewInfo]:
        """Every interview (or the unfinished ones), newest first."""
        with self.session() as s:
            query = select(InterviewRow).order_by(InterviewRow.updated_at.desc())
            if unfinished:
                query = query.where(InterviewRow.ended_at.is_(None))
            return [_interview_info(r) for r in s.scalars(query)]

    def find_unfinished(self, *, room: str | None = None, invitation_id: str | None = None) -> str | None:
        """The most recent unfinished interview (one with a snapshot) for this invitation, else in this room."""
        with self.session() as s:
            for column, value in ((InterviewRow.invitation_id, invitation_id), (InterviewRow.room, room)):
                if not value:
                    continue
                found = s.scalar(select(InterviewRow.id)
                                 .where(column == value, InterviewRow.ended_at.is_(None),
                                        InterviewRow.snapshot.is_not(None))
                                 .order_by(InterviewRow.updated_at.desc()).limit(1))
                if found:
                    return found
        return None

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        """Write one turn; writing the same (interview, index) again replaces it with the newer version."""
        values: dict[str, Any] = {
            "speaker": turn.speaker.value, "text": turn.text, "started_at": turn.started_at,
            "ended_at": turn.ended_at, "phase": turn.phase.value if turn.phase else None,
            "question_id": turn.question_id, "stt_confidence": turn.stt_confidence, "interrupted": turn.interrupted,
            "metrics": turn.metrics.model_dump(exclude_none=True) if turn.metrics else None, "recorded_at": utcnow(),
        }
        stmt = self._insert()(TurnRow).values(interview_id=interview_id, idx=turn.index, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["interview_id", "idx"], set_=values)
        with self.session() as s, s.begin():
            s.execute(stmt)

    def turns(self, interview_id: str) -> list[Turn]:
        with self.session() as s:
            rows = s.scalars(select(TurnRow).where(TurnRow.interview_id == interview_id).order_by(TurnRow.idx))
            return [_turn_from_row(r) for r in rows]

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        """Keep the engine's latest state; the first snapshot of an ended interview marks it over (no longer
        resumable) and, in the same transaction, queues the "interview.finished" webhook."""
        now = utcnow()
        with self.session() as s, s.begin():
            done = s.execute(update(InterviewRow).where(InterviewRow.id == interview_id)
                             .values(snapshot=snapshot.model_dump(mode="json"), updated_at=now))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise StorageError(f"no interview '{interview_id}': create_interview first")
            if snapshot.end_reason is None:
                return
            ended = s.execute(update(InterviewRow)
                              .where(InterviewRow.id == interview_id, InterviewRow.ended_at.is_(None))
                              .values(ended_at=now, end_reason=snapshot.end_reason)
                              .returning(InterviewRow.candidate_name, InterviewRow.role)).first()
            if ended is not None:
                self._add_event(s, "interview.finished", interview_id, {
                    "interview_id": interview_id, "candidate_name": ended.candidate_name, "role": ended.role,
                    "end_reason": snapshot.end_reason, "ended_at": now.isoformat(),
                    "duration_seconds": round(snapshot.ended_at or snapshot.elapsed_seconds, 1)})

    def _add_event(self, s: Session, event: str, interview_id: str, payload: dict[str, Any]) -> None:
        """One outbox row per webhook URL (see storage.outbox), inside the caller's transaction."""
        if not self.webhook_urls:
            return
        event_id, now = uuid.uuid4().hex, utcnow()
        body = {"event": event, "event_id": event_id, "created_at": now.isoformat(), "data": payload}
        for url in self.webhook_urls:
            s.add(WebhookDeliveryRow(event_id=event_id, event=event, interview_id=interview_id, url=url,
                                     payload=body, status=DeliveryStatus.PENDING.value, attempts=0,
                                     next_attempt_at=now, created_at=now))

    def load_snapshot(self, interview_id: str) -> EngineSnapshot | None:
        with self.session() as s:
            data = s.scalar(select(InterviewRow.snapshot).where(InterviewRow.id == interview_id))
            return EngineSnapshot.model_validate(data) if data else None

    # --- the evaluation queue ---

    def enqueue_evaluation(self, interview_id: str, record: InterviewRecord, *, output_dir: str | None = None,
                           again: bool = False) -> int:
        """Queue the interview's evaluation; one job per interview, so calling twice returns the same job.

        With `again`, a finished or failed job is queued anew with this record (a manual re-evaluation).
        The interview row is created from the record if the caller never created it.
        """
        self.create_interview(interview_id, candidate_name=record.candidate_name, role=record.role,
                              level=record.level, started_at=record.started_at, config_hash=record.config_hash)
        data = record.model_dump(mode="json")
        stmt = self._insert()(JobRow).values(
            interview_id=interview_id, status=JobStatus.PENDING.value, record=data, output_dir=output_dir,
            attempts=0, created_at=utcnow(), updated_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["interview_id"])
        with self.session() as s, s.begin():
            s.execute(stmt)
            job = s.scalars(select(JobRow).where(JobRow.interview_id == interview_id)).one()
            if again and job.status in (JobStatus.DONE, JobStatus.FAILED):
                job.status, job.record, job.output_dir = JobStatus.PENDING.value, data, output_dir
                job.attempts, job.last_error, job.finished_at = 0, None, None
            return job.id

    def pending_jobs(self) -> list[JobInfo]:
        """Every job not done yet (pending, running or failed), oldest first."""
        with self.session() as s:
            rows = s.scalars(select(JobRow).where(JobRow.status != JobStatus.DONE.value).order_by(JobRow.id))
            return [_job_info(r) for r in rows]

    def job(self, job_id: int) -> JobInfo | None:
        with self.session() as s:
            row = s.get(JobRow, job_id)
            return _job_info(row) if row else None

    def claim_job(self, owner: str, lease_seconds: float, *, job_ids: Sequence[int] | None = None
                  ) -> ClaimedJob | None:
        """Lease the oldest claimable job (pending, or running with an expired lease) to `owner`, or None."""
        now = utcnow()
        claimable = or_(JobRow.status == JobStatus.PENDING.value,
                        (JobRow.status == JobStatus.RUNNING.value) & (JobRow.lease_expires_at < now),
                        (JobRow.status == JobStatus.FAILED.value) & (JobRow.retry_at <= now))
        pick = select(JobRow.id).where(claimable)
        if job_ids is not None:
            pick = pick.where(JobRow.id.in_(list(job_ids)))
        pick = pick.order_by(JobRow.id).limit(1).with_for_update(skip_locked=True)  # FOR UPDATE: Postgres only
        stmt = (update(JobRow).where(JobRow.id == pick.scalar_subquery())
                .values(status=JobStatus.RUNNING.value, lease_owner=owner,
                        lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
                .returning(JobRow.id, JobRow.interview_id, JobRow.record, JobRow.output_dir))
        with self.session() as s, s.begin():
            row = s.execute(stmt).first()
        if row is None:
            return None
        return ClaimedJob(id=row.id, interview_id=row.interview_id,
                          record=InterviewRecord.model_validate(row.record), output_dir=row.output_dir, owner=owner)

    def _owned(self, job_id: int, owner: str) -> Any:
        return (JobRow.id == job_id) & (JobRow.lease_owner == owner) & (JobRow.status == JobStatus.RUNNING.value)

    def renew_lease(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False if the job is no longer this owner's (its lease expired and was taken)."""
        now = utcnow()
        with self.session() as s, s.begin():
            done = s.execute(update(JobRow).where(self._owned(job_id, owner))
                             .values(lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def complete_job(self, job_id: int, owner: str, *, attempts: int, report: dict[str, Any], overall_score: float,
                     decision: str, role_fit_percentage: int, json_path: str, html_path: str) -> bool:
        """Store the evaluation and mark the job done, in one transaction; False (nothing stored) if the lease
        was lost to another worker, which then owns the job."""
        now = utcnow()
        with self.session() as s, s.begin():
            done = s.execute(update(JobRow).where(self._owned(job_id, owner))
                             .values(status=JobStatus.DONE.value, attempts=JobRow.attempts + attempts,
                                     last_error=None, lease_owner=None, lease_expires_at=None, finished_at=now,
                                     updated_at=now)
                             .returning(JobRow.interview_id)).first()
            if done is None:
                return False
            s.add(EvaluationRow(interview_id=done.interview_id, job_id=job_id, overall_score=overall_score,
                                decision=decision, role_fit_percentage=role_fit_percentage, report=report,
                                json_path=json_path, html_path=html_path, created_at=now))
            self._add_event(s, "evaluation.done", done.interview_id, {
                "interview_id": done.interview_id, "job_id": job_id, "overall_score": overall_score,
                "decision": decision, "role_fit_percentage": role_fit_percentage,
                "ratings": report.get("ratings"), "json_path": json_path, "html_path": html_path})
            return True

    def fail_job(self, job_id: int, owner: str, *, attempts: int, error: str,
                 retry_at: datetime | None = None) -> None:
        """Attempts exhausted: keep the job, as failed, with its last error, until `retry_failed` or, when given,
        `retry_at` (then any worker claims it again: the evaluation worker's backoff)."""
        with self.session() as s, s.begin():
            s.execute(update(JobRow).where(self._owned(job_id, owner))
                      .values(status=JobStatus.FAILED.value, attempts=JobRow.attempts + attempts, last_error=error,
                              lease_owner=None, lease_expires_at=None, retry_at=retry_at, updated_at=utcnow()))

    def retry_failed(self) -> int:
        """Put every failed job back in the queue; return how many."""
        with self.session() as s, s.begin():
            done = s.execute(update(JobRow).where(JobRow.status == JobStatus.FAILED.value)
                             .values(status=JobStatus.PENDING.value, retry_at=None, updated_at=utcnow()))
            return int(done.rowcount)  # type: ignore[attr-defined]

    def queue_depth(self) -> dict[JobStatus, int]:
        """Jobs per status (done included), for metrics."""
        with self.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
        depth = dict.fromkeys(JobStatus, 0)
        depth.update({JobStatus(status): count for status, count in rows})
        return depth

    def evaluations(self, interview_id: str) -> list[StoredEvaluation]:
        with self.session() as s:
            rows = s.scalars(select(EvaluationRow).where(EvaluationRow.interview_id == interview_id)
                             .order_by(EvaluationRow.id))
            return [StoredEvaluation(id=r.id, interview_id=r.interview_id, job_id=r.job_id,
                                     overall_score=r.overall_score, decision=r.decision,
                                     role_fit_percentage=r.role_fit_percentage, report=r.report,
                                     json_path=r.json_path, html_path=r.html_path, created_at=r.created_at)
                    for r in rows]

    # --- data rights ---

    def delete_interview(self, interview_id: str) -> list[str]:
        """Delete the interview with its turns, jobs, evaluations and webhook deliveries; return the report files
        the evaluations named (the caller deletes files). Deleting an unknown id deletes nothing."""
        with self.session() as s, s.begin():
            paths = [p for row in s.execute(select(EvaluationRow.json_path, EvaluationRow.html_path)
                                            .where(EvaluationRow.interview_id == interview_id)) for p in row]
            s.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.interview_id == interview_id))
            # children first: SQLite enforces foreign keys but the cascade needs them on for every connection
            for table in (EvaluationRow, JobRow, TurnRow):
                s.execute(delete(table).where(table.interview_id == interview_id))
            s.execute(delete(InterviewRow).where(InterviewRow.id == interview_id))
        return paths

    def interviews_before(self, cutoff: datetime) -> list[str]:
        """Interviews created before `cutoff` (retention), oldest first."""
        with self.session() as s:
            return list(s.scalars(select(InterviewRow.id).where(InterviewRow.created_at < cutoff)
                                  .order_by(InterviewRow.created_at)))

    def has_job(self, interview_id: str) -> bool:
        """Whether the interview's evaluation was ever queued."""
        with self.session() as s:
            return s.scalar(select(JobRow.id).where(JobRow.interview_id == interview_id)) is not None
