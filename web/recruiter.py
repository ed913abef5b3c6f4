"""The recruiter's side: login, the interview list, one interview, a role's ranking, invitations, and the JSON API.

Every route here but the login form depends on :func:`web.context.recruiter`; forms carry the session's CSRF token.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from engine.snapshot import EngineSnapshot
from engine.transcript import InterviewRecord
from storage.models import utcnow
from web.auth import new_secret, same, verify_password
from web.context import SESSION_COOKIE, WebContext, check_csrf, recruiter, templates, web
from web.evaluations import queue_evaluation
from web.invitations import InvitationError, candidate_link, invite
from web.repo import (
    INCOMPLETE_DECISION,
    InterviewSummary,
    LoggedIn,
    Status,
    close_session,
    find_user,
    interview_detail,
    interview_summaries,
    invitation,
    invitations,
    link_state,
    open_session,
    revoke_invitation,
)
from web.views import latencies, per_question, phase_scores, phase_timeline, ratings, transcript_by_phase

log = logging.getLogger(__name__)
router = APIRouter()
LOGIN_CSRF_COOKIE = "sima_login_csrf"
SORTS = {"date": lambda s: s.date, "score": lambda s: s.score or -1.0, "candidate": lambda s: s.candidate.lower(),
         "role": lambda s: s.role, "level": lambda s: s.level, "status": lambda s: s.status.value,
         "decision": lambda s: s.decision or ""}
RECORDING = "conversation.wav"  # written by `sima simulate` (and by an egress job, when one is configured)

User = Annotated[LoggedIn, Depends(recruiter)]
Ctx = Annotated[WebContext, Depends(web)]


def _cookie_options(ctx: WebContext) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": ctx.app.config.web.secure_cookies}


# ----- login ---------------------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx, next: str = "/", error: str | None = None) -> Response:
    token = new_secret()  # double-submit: the form and a cookie must carry the same value
    response = templates.TemplateResponse(request, "login.html", {"csrf": token, "next": _local(next),
                                                                  "error": error})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/login", **_cookie_options(ctx))
    return response


def _local(path: str) -> str:
    """Only paths on this site: `next` must not send a recruiter elsewhere after login."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.post("/login")
def login(request: Request, ctx: Ctx, name: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not same(cookie, csrf):
        return _login_again(request, ctx, next, "The form expired; please try again.", 400)
    keys = (f"ip:{request.client.host if request.client else '?'}", f"user:{name.lower()}")
    if ctx.limiter.blocked(*keys):
        return _login_again(request, ctx, next, "Too many failed attempts; wait a few minutes.", 429)
    user = find_user(ctx.store, name)
    if user is None or not verify_password(user.password_hash, password):
        ctx.limiter.fail(*keys)
        log.warning("failed login for %r from %s", name[:64], keys[0])
        return _login_again(request, ctx, next, "Wrong name or password.", 401)
    ctx.limiter.clear(keys[1])
    secret = open_session(ctx.store, user.id, ctx.app.config.web.session_hours)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(ctx.app.config.web.session_hours * 3600), path="/",
                        **_cookie_options(ctx))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _login_again(request: Request, ctx: Ctx, next: str, error: str, status: int) -> Response:
    response = login_form(request, ctx, next, error)
    response.status_code = status
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx, user: User, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(user, csrf)
    close_session(ctx.store, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ----- the interview list --------------------------------------------------------------------------------------


def _listed(ctx: WebContext, *, status: str, role: str, q: str, sort: str, order: str) -> list[InterviewSummary]:
    rows = interview_summaries(ctx.store, role=role or None)
    if status:
        rows = [r for r in rows if r.status.value == status]
    if q:
        rows = [r for r in rows if q.lower() in r.candidate.lower()]
    key = SORTS.get(sort, SORTS["date"])
    return sorted(rows, key=key, reverse=order != "asc")  # type: ignore[arg-type]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, ctx: Ctx, user: User, status: str = "", role: str = "", q: str = "",
              sort: str = "date", order: str = "desc") -> Response:
    rows = _listed(ctx, status=status, role=role, q=q, sort=sort, order=order)
    return templates.TemplateResponse(request, "dashboard.html", {
        "user": user, "rows": rows, "statuses": [s.value for s in Status], "roles": _roles(ctx),
        "filters": {"status": status, "role": role, "q": q, "sort": sort, "order": order}})


def _roles(ctx: WebContext) -> list[tuple[str, str]]:
    return sorted((slug, bank.name) for slug, bank in ctx.app.banks.banks.items())


# ----- one interview -------------------------------------------------------------------------------------------


def _detail(ctx: WebContext, interview_id: str) -> dict[str, Any]:
    detail = interview_detail(ctx.store, interview_id)
    if detail is None:
        raise HTTPException(404, "no such interview")
    turns = ctx.store.turns(interview_id)
    report = detail.evaluation.report if detail.evaluation else None
    return {"detail": detail, "row": detail.row, "status": detail.status, "turns": turns,
            "sections": transcript_by_phase(turns), "timeline": phase_timeline(detail.row.snapshot),
            "latencies": latencies(turns), "report": report, "ratings": ratings(report or {}),
            "per_question": per_question(report or {}), "phase_scores": phase_scores(report or {}),
            "recording": _recording(ctx, interview_id) is not None}


def _recording(ctx: WebContext, interview_id: str) -> Path | None:
    """The interview's recording inside the runs folder, or None; nothing outside that folder is ever served."""
    runs = ctx.app.config.paths.runs.resolve()
    path = (runs / interview_id / RECORDING).resolve()
    return path if path.is_relative_to(runs) and path.is_file() else None


@router.get("/interviews/{interview_id}", response_class=HTMLResponse)
def interview_page(request: Request, ctx: Ctx, user: User, interview_id: str) -> Response:
    return templates.TemplateResponse(request, "interview.html", {"user": user, **_detail(ctx, interview_id)})


@router.get("/interviews/{interview_id}/recording")
def recording(ctx: Ctx, user: User, interview_id: str) -> Response:
    if interview_detail(ctx.store, interview_id) is None or (path := _recording(ctx, interview_id)) is None:
        raise HTTPException(404, "no recording")
    return FileResponse(path, media_type="audio/wav")


@router.post("/interviews/{interview_id}/reevaluate")
async def reevaluate(ctx: Ctx, user: User, interview_id: str, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(user, csrf)
    detail = interview_detail(ctx.store, interview_id)
    if detail is None:
        raise HTTPException(404, "no such interview")
    record = _record(ctx, detail.job_record, detail.row)
    if record is None:
        raise HTTPException(409, "the interview is not over yet")
    log.info("%s asks for interview %s to be evaluated again", user.name, interview_id)
    await queue_evaluation(ctx, record, again=True)
    return RedirectResponse(f"/interviews/{interview_id}", status_code=303)


def _record(ctx: WebContext, job_record: dict[str, Any] | None, row: Any) -> InterviewRecord | None:
    """The record to judge: the one queued when the interview ended, else rebuilt from its snapshot and turns."""
    if job_record:
        return InterviewRecord.model_validate(job_record)
    if not row.snapshot or row.snapshot.get("ended_at") is None:
        return None
    return InterviewRecord.build(EngineSnapshot.model_validate(row.snapshot), ctx.store.turns(row.id),
                                 ctx.app.banks, row.started_at or row.created_at, row.config_hash)


# ----- a role's ranking ----------------------------------------------------------------------------------------


def _ranking(ctx: WebContext, role: str) -> list[InterviewSummary]:
    # an Incomplete interview is stored with score 0 but was never scored: it has no place in a ranking
    rows = [r for r in interview_summaries(ctx.store, role=role)
            if r.score is not None and r.decision != INCOMPLETE_DECISION]
    return sorted(rows, key=lambda r: r.score or 0.0, reverse=True)


@router.get("/roles/{role}", response_class=HTMLResponse)
def role_page(request: Request, ctx: Ctx, user: User, role: str) -> Response:
    if role not in ctx.app.banks.banks:
        raise HTTPException(404, "no such role")
    return templates.TemplateResponse(request, "role.html", {
        "user": user, "role": role, "role_name": ctx.app.banks.bank(role).name, "rows": _ranking(ctx, role)})


# ----- invitations ---------------------------------------------------------------------------------------------


@router.get("/invitations", response_class=HTMLResponse)
def invitations_page(request: Request, ctx: Ctx, user: User) -> Response:
    return _invitations(request, ctx, user)


def _invitations(request: Request, ctx: WebContext, user: LoggedIn, *, link: str | None = None,
                 errors: list[str] | None = None, status: int = 200) -> Response:
    now = utcnow()
    rows = [(inv, link_state(inv, now).value) for inv in invitations(ctx.store)]
    response = templates.TemplateResponse(request, "invitations.html", {
        "user": user, "rows": rows, "roles": _roles(ctx), "link": link, "errors": errors or []})
    response.status_code = status
    return response


@router.post("/invitations", response_class=HTMLResponse)
def create(request: Request, ctx: Ctx, user: User, csrf: Annotated[str, Form()],
           candidate_name: Annotated[str, Form()], role: Annotated[str, Form()],
           seniority: Annotated[str, Form()], mode: Annotated[str, Form()] = "voice",
           expires: Annotated[str, Form()] = "48h") -> Response:
    check_csrf(user, csrf)
    try:
        inv, secret = invite(ctx.store, ctx.app.banks, candidate_name=candidate_name, role=role, seniority=seniority,
                             mode=mode, expires=expires, created_by=user.user_id)
    except InvitationError as exc:
        return _invitations(request, ctx, user, errors=exc.problems, status=400)
    log.info("%s invited %s (%s)", user.name, inv.id, inv.role)
    # the link is shown this once: only its digest is kept
    return _invitations(request, ctx, user, link=candidate_link(str(ctx.app.config.web.public_url), secret))


@router.post("/invitations/{invitation_id}/revoke")
def revoke(ctx: Ctx, user: User, invitation_id: str, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(user, csrf)
    if not revoke_invitation(ctx.store, invitation_id) and invitation(ctx.store, invitation_id) is None:
        raise HTTPException(404, "no such invitation")
    return RedirectResponse("/invitations", status_code=303)


# ----- the JSON API --------------------------------------------------------------------------------------------


def _summary_json(s: InterviewSummary) -> dict[str, Any]:
    return {"id": s.id, "candidate": s.candidate, "role": s.role, "level": s.level, "status": s.status.value,
            "decision": s.decision, "score": s.score, "date": s.date.isoformat(), "invitation_id": s.invitation_id,
            "is_invitation": s.is_invitation}


@router.get("/api/interviews")
def api_interviews(ctx: Ctx, user: User, status: str = "", role: str = "", q: str = "",
                   sort: Annotated[str, Query()] = "date", order: str = "desc") -> list[dict[str, Any]]:
    return [_summary_json(s) for s in _listed(ctx, status=status, role=role, q=q, sort=sort, order=order)]


@router.get("/api/interviews/{interview_id}")
def api_interview(ctx: Ctx, user: User, interview_id: str) -> dict[str, Any]:
    d = _detail(ctx, interview_id)
    row = d["row"]
    return {"id": row.id, "candidate": row.candidate_name, "role": row.role, "level": row.level,
            "status": d["status"].value, "snapshot": row.snapshot,
            "turns": [t.model_dump(mode="json") for t in d["turns"]], "report": d["report"],
            "recording": f"/interviews/{row.id}/recording" if d["recording"] else None}


@router.get("/api/roles/{role}")
def api_role(ctx: Ctx, user: User, role: str) -> list[dict[str, Any]]:
    return [_summary_json(s) for s in _ranking(ctx, role)]


@router.get("/api/invitations")
def api_invitations(ctx: Ctx, user: User) -> list[dict[str, Any]]:
    now = utcnow()
    return [{"id": i.id, "candidate_name": i.candidate_name, "role": i.role, "level": i.level, "mode": i.mode,
             "state": link_state(i, now).value, "created_at": i.created_at.isoformat(),
             "expires_at": i.expires_at.isoformat(), "interview_id": i.interview_id} for i in invitations(ctx.store)]
