"""The tables: interviews, their turns, the evaluation queue and the stored evaluations (SQLAlchemy 2 ORM).

The same schema runs on SQLite and Postgres: JSON columns become JSONB on Postgres, and times are stored as naive
UTC (SQLite has no time zones) and handed back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for any worker
    RUNNING = "running"  # leased by a worker; claimable again once the lease expires
    FAILED = "failed"  # attempts exhausted; kept with its error until `sima evaluations retry`
    DONE = "done"  # the report is stored


class Base(DeclarativeBase):
    pass


class InterviewRow(Base):
    __tablename__ = "interviews"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    candidate_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    config_hash: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # where the interview runs, so a job that starts in the same room (or for the same invitation) resumes it
    room: Mapped[str | None] = mapped_column(String(200), index=True)
    invitation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: unfinished, resumable
    end_reason: Mapped[str | None] = mapped_column(String(64))
    # the candidate's consent to be recorded and evaluated, as given on the consent page
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str | None] = mapped_column(Text)


class TurnRow(Base):
    __tablename__ = "turns"

    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    speaker: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)
    phase: Mapped[str | None] = mapped_column(String(32))
    question_id: Mapped[str | None] = mapped_column(String(128))
    stt_confidence: Mapped[float | None] = mapped_column(Float)
    interrupted: Mapped[bool] = mapped_column(default=False)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRow(Base):
    __tablename__ = "evaluation_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=JobStatus.PENDING.value)
    record: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    output_dir: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # judge calls over the job's whole life
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a failed job is claimable again from this time (backoff); None: only `sima evaluations retry` requeues it
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class EvaluationRow(Base):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_jobs.id", ondelete="SET NULL"))
    overall_score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    role_fit_percentage: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    json_path: Mapped[str] = mapped_column(Text)
    html_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (`next_attempt_at`)
    RUNNING = "running"  # leased by a sender
    DELIVERED = "delivered"  # the receiver answered 2xx


class WebhookDeliveryRow(Base):
    """The webhook outbox: one row per event and URL, written in the same process that saw the event, sent later."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))  # the same for every URL an event goes to
    event: Mapped[str] = mapped_column(String(64))
    interview_id: Mapped[str | None] = mapped_column(String(128), index=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(16), index=True, default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ----- the web app (`sima serve`): recruiter accounts, their login sessions, candidate invitations -----
# Secrets are never stored: a session cookie and an invitation link are kept as SHA-256 digests, passwords as argon2.


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, with its own salt and parameters
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSessionRow(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's secret
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # embedded in this session's forms
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class InvitationRow(Base):
    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public, for recruiter pages; not the link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the link's secret
    candidate_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))  # voice | text
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # consent binds the link to one browser (a digest of its cookie); from then on nobody else can use it
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str | None] = mapped_column(Text)
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    room: Mapped[str | None] = mapped_column(String(200))  # the LiveKit room of a voice interview
    interview_id: Mapped[str | None] = mapped_column(String(128), index=True)  # the typed interview it became
