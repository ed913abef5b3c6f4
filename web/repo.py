"""Everything the web app reads and writes in the database, through the store's SQLAlchemy sessions.

Every query is built with SQLAlchemy expressions (bound parameters only). Changes that must happen once — consenting
to an invitation, starting its interview — are single conditional UPDATEs, so two browsers racing on one link
cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.models import (
    EvaluationRow,
    InterviewRow,
    InvitationRow,
    JobRow,
    JobStatus,
    UserRow,
    WebSessionRow,
    utcnow,
)
from storage.store import Store
from web.auth import digest, hash_password, new_secret

INVITATION_ID_BYTES = 8


class RepoError(ValueError):
    """A change that cannot be made as asked; the message says why."""


# ----- users and sessions -----------------------------------------------------------------------------------


def add_user(store: Store, name: str, password: str) -> int:
    with store.session() as s, s.begin():
        user = UserRow(name=name, password_hash=hash_password(password), created_at=utcnow())
        s.add(user)
        try:
            s.flush()
        except IntegrityError:
            raise RepoError(f"a user named '{name}' exists already") from None
        return user.id


def set_password(store: Store, name: str, password: str) -> bool:
    """Replace a user's password and end their sessions; False if there is no such user."""
    with store.session() as s, s.begin():
        user = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if user is None:
            return False
        user.password_hash = hash_password(password)
        s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
        return True


def find_user(store: Store, name: str) -> UserRow | None:
    with store.session() as s:
        return s.scalars(select(UserRow).where(UserRow.name == name)).first()


def user_names(store: Store) -> list[str]:
    with store.session() as s:
        return list(s.scalars(select(UserRow.name).order_by(UserRow.name)))


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    name: str
    csrf_token: str


def open_session(store: Store, user_id: int, hours: float) -> str:
    """A new login session; returns the cookie's secret (only its digest is stored)."""
    secret = new_secret()
    now = utcnow()
    with store.session() as s, s.begin():
        s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))  # tidy as we go
        s.add(WebSessionRow(token_hash=digest(secret), user_id=user_id, csrf_token=new_secret(), created_at=now,
                            expires_at=now + timedelta(hours=hours)))
    return secret


def session_user(store: Store, secret: str) -> LoggedIn | None:
    with store.session() as s:
        row = s.execute(select(WebSessionRow.user_id, WebSessionRow.csrf_token, UserRow.name)
                        .join(UserRow, UserRow.id == WebSessionRow.user_id)
                        .where(WebSessionRow.token_hash == digest(secret), WebSessionRow.expires_at > utcnow())
                        ).first()
    return LoggedIn(row.user_id, row.name, row.csrf_token) if row else None


def close_session(store: Store, secret: str) -> None:
    with store.session() as s, s.begin():
        s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == digest(secret)))


# ----- invitations --------------------------------------------------------------------------------------------


class LinkState(StrEnum):
    OPEN = "open"  # nobody has accepted the notice yet
    CONSENTED = "consented"  # one browser accepted it; only that browser may go on
    STARTED = "started"  # the interview began: the link is used
    REVOKED = "revoked"
    EXPIRED = "expired"


def link_state(inv: InvitationRow, now: datetime) -> LinkState:
    """Where an invitation stands; once its interview started, revoking or expiry no longer change that."""
    if inv.started_at is not None:
        return LinkState.STARTED
    if inv.revoked_at is not None:
        return LinkState.REVOKED
    if inv.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.CONSENTED if inv.consent_at is not None else LinkState.OPEN


def create_invitation(store: Store, *, candidate_name: str, role: str, level: str, mode: str,
                      expires_at: datetime, created_by: int | None) -> tuple[InvitationRow, str]:
    """A new invitation and its link's secret (shown once; only its digest is stored)."""
    secret = new_secret()
    row = InvitationRow(id=new_secret()[: INVITATION_ID_BYTES * 2], token_hash=digest(secret),
                        candidate_name=candidate_name, role=role, level=level, mode=mode, created_by=created_by,
                        created_at=utcnow(), expires_at=expires_at)
    with store.session() as s, s.begin():
        s.add(row)
    return row, secret


def invitation_by_secret(store: Store, secret: str) -> InvitationRow | None:
    with store.session() as s:
        return s.scalars(select(InvitationRow).where(InvitationRow.token_hash == digest(secret))).first()


def invitation(store: Store, invitation_id: str) -> InvitationRow | None:
    with store.session() as s:
        return s.get(InvitationRow, invitation_id)


def invitations(store: Store) -> list[InvitationRow]:
    with store.session() as s:
        return list(s.scalars(select(InvitationRow).order_by(InvitationRow.created_at.desc())))


def revoke_invitation(store: Store, invitation_id: str) -> bool:
    """Revoke a link that has not been used; False if it was used, revoked already, or does not exist."""
    with store.session() as s, s.begin():
        done = s.execute(update(InvitationRow)
                         .where(InvitationRow.id == invitation_id, InvitationRow.started_at.is_(None),
                                InvitationRow.revoked_at.is_(None))
                         .values(revoked_at=utcnow()))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def accept_notice(store: Store, invitation_id: str, *, text: str, browser_secret: str) -> bool:
    """Record the candidate's consent and bind the link to their browser; False if the link is not open."""
    now = utcnow()
    with store.session() as s, s.begin():
        done = s.execute(update(InvitationRow)
                         .where(InvitationRow.id == invitation_id, InvitationRow.consent_at.is_(None),
                                InvitationRow.revoked_at.is_(None), InvitationRow.expires_at > now)
                         .values(consent_at=now, consent_text=text, browser_hash=digest(browser_secret)))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def link_interview(store: Store, interview_id: str, inv: InvitationRow) -> None:
    """Record on the interview which invitation it came from and the consent its candidate gave."""
    with store.session() as s, s.begin():
        s.execute(update(InterviewRow).where(InterviewRow.id == interview_id)
                  .values(invitation_id=inv.id, consent_at=inv.consent_at, consent_text=inv.consent_text))


def _invitation_of_interview() -> Any:
    # a typed interview is named on its invitation; a voice interview names its invitation (the worker reads it
    # from the dispatch metadata)
    return or_(InvitationRow.interview_id == InterviewRow.id, InterviewRow.invitation_id == InvitationRow.id)


def start_interview(store: Store, invitation_id: str, *, room: str | None = None,
                    interview_id: str | None = None) -> bool:
    """Mark the link used as its interview starts; False if it started already (or was revoked or expired)."""
    now = utcnow()
    with store.session() as s, s.begin():
        done = s.execute(update(InvitationRow)
                         .where(InvitationRow.id == invitation_id, InvitationRow.started_at.is_(None),
                                InvitationRow.consent_at.is_not(None), InvitationRow.revoked_at.is_(None),
                                InvitationRow.expires_at > now)
                         .values(started_at=now, room=room, interview_id=interview_id))
        return bool(done.rowcount)  # type: ignore[attr-defined]


# ----- interviews, for the dashboard ---------------------------------------------------------------------------


class Status(StrEnum):
    INVITED = "invited"
    IN_PROGRESS = "in progress"
    FINISHED = "finished"  # over, not queued for evaluation
    EVALUATING = "evaluating"
    EVALUATED = "evaluated"
    FAILED = "failed"  # its evaluation failed
    INCOMPLETE = "incomplete"  # evaluated, but too little evidence for a decision


INCOMPLETE_DECISION = "Incomplete"


@dataclass(frozen=True)
class InterviewSummary:
    id: str  # the interview's id, or the invitation's for an interview not started
    candidate: str
    role: str
    level: str
    status: Status
    decision: str | None
    score: float | None
    date: datetime
    invitation_id: str | None
    is_invitation: bool = False


def interview_status(snapshot: dict[str, Any] | None, job_status: str | None, decision: str | None) -> Status:
    """The dashboard's status of one interview.

    >>> interview_status({"ended_at": None}, None, None), interview_status({"ended_at": 1.0}, "done", "Hire")
    (<Status.IN_PROGRESS: 'in progress'>, <Status.EVALUATED: 'evaluated'>)
    """
    if job_status == JobStatus.DONE.value:
        return Status.INCOMPLETE if decision == INCOMPLETE_DECISION else Status.EVALUATED
    if job_status == JobStatus.FAILED.value:
        return Status.FAILED
    if job_status in (JobStatus.PENDING.value, JobStatus.RUNNING.value):
        return Status.EVALUATING
    if snapshot is None or snapshot.get("ended_at") is None:
        return Status.IN_PROGRESS
    return Status.FINISHED


def _latest_evaluations() -> Any:
    latest = (select(EvaluationRow.interview_id, func.max(EvaluationRow.id).label("id"))
              .group_by(EvaluationRow.interview_id).subquery())
    return (select(EvaluationRow.interview_id, EvaluationRow.decision, EvaluationRow.overall_score)
            .join(latest, latest.c.id == EvaluationRow.id).subquery())


def interview_summaries(store: Store, *, role: str | None = None) -> list[InterviewSummary]:
    """Every interview (with its invitation's candidate data where it came from one) and every open invitation."""
    ev = _latest_evaluations()
    query = (select(InterviewRow, JobRow.status, ev.c.decision, ev.c.overall_score, InvitationRow)
             .outerjoin(JobRow, JobRow.interview_id == InterviewRow.id)
             .outerjoin(ev, ev.c.interview_id == InterviewRow.id)
             .outerjoin(InvitationRow, _invitation_of_interview()))
    if role:
        query = query.where(InterviewRow.role == role)
    now = utcnow()
    out: list[InterviewSummary] = []
    with store.session() as s:
        for iv, job_status, decision, score, inv in s.execute(query):
            out.append(InterviewSummary(
                id=iv.id, candidate=iv.candidate_name or (inv.candidate_name if inv else "") or "(unnamed)",
                role=iv.role or (inv.role if inv else "") or "", level=iv.level or (inv.level if inv else "") or "",
                status=interview_status(iv.snapshot, job_status, decision), decision=decision, score=score,
                date=iv.started_at or iv.created_at, invitation_id=inv.id if inv else None))
        linked = select(InterviewRow.id).where(_invitation_of_interview())
        pending = select(InvitationRow).where(~linked.exists())
        if role:
            pending = pending.where(InvitationRow.role == role)
        for inv in s.scalars(pending):
            state = link_state(inv, now)
            if state in (LinkState.OPEN, LinkState.CONSENTED):
                status = Status.INVITED
            elif state is LinkState.STARTED:  # a voice interview whose worker has not recorded it yet
                status = Status.IN_PROGRESS
            else:
                continue
            out.append(InterviewSummary(id=inv.id, candidate=inv.candidate_name, role=inv.role, level=inv.level,
                                        status=status, decision=None, score=None, date=inv.created_at,
                                        invitation_id=inv.id, is_invitation=True))
    return out


@dataclass(frozen=True)
class InterviewDetail:
    row: InterviewRow
    job_status: str | None
    job_error: str | None
    job_record: dict[str, Any] | None
    evaluation: EvaluationRow | None
    invitation: InvitationRow | None

    @property
    def status(self) -> Status:
        return interview_status(self.row.snapshot, self.job_status,
                                self.evaluation.decision if self.evaluation else None)


def interview_detail(store: Store, interview_id: str) -> InterviewDetail | None:
    with store.session() as s:
        row = s.get(InterviewRow, interview_id)
        if row is None:
            return None
        job = s.scalars(select(JobRow).where(JobRow.interview_id == interview_id)).first()
        evaluation = s.scalars(select(EvaluationRow).where(EvaluationRow.interview_id == interview_id)
                               .order_by(EvaluationRow.id.desc())).first()
        inv = s.scalars(select(InvitationRow).where(
            or_(InvitationRow.interview_id == interview_id, InvitationRow.id == row.invitation_id))).first()
        return InterviewDetail(row=row, job_status=job.status if job else None,
                               job_error=job.last_error if job else None, job_record=job.record if job else None,
                               evaluation=evaluation, invitation=inv)
