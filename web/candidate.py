"""The candidate's side, from the invitation link: the consent notice, then the voice or typed interview.

The link's secret is the only credential. Accepting the notice binds the link to that browser (an HttpOnly cookie,
kept as a digest); from then on the link shows nothing to anyone else, and once the interview starts it is used.
A used, expired, revoked or unknown link gets a page that says so and nothing else. These pages never show other
interviews or any evaluation.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from engine.phases import Level
from engine.snapshot import Profile
from pipeline.tokens import TokenError, candidate_token
from storage.models import InvitationRow, utcnow
from web.auth import digest, new_secret, same
from web.context import WebContext, templates, web
from web.repo import (
    LinkState,
    accept_notice,
    interview_detail,
    invitation_by_secret,
    link_interview,
    link_state,
    start_interview,
)
from web.text_interview import run_socket_interview

log = logging.getLogger(__name__)
router = APIRouter()

BROWSER_COOKIE = "sima_candidate"
CSRF_COOKIE = "sima_candidate_csrf"
JOIN_TTL = timedelta(minutes=15)  # the candidate's LiveKit token must be used within this
UNAVAILABLE = {
    None: ("This link is not valid", "Please check that you copied the whole link from your invitation."),
    LinkState.REVOKED: ("This invitation was withdrawn", "Please contact the recruiter who invited you."),
    LinkState.EXPIRED: ("This link has expired", "Please ask the recruiter who invited you for a new link."),
    LinkState.STARTED: ("This link was already used", "Each invitation link works for one interview only."),
    LinkState.CONSENTED: ("This link was already used", "Each invitation link works for one interview only."),
}

Ctx = Annotated[WebContext, Depends(web)]


def _unavailable(request: Request, state: LinkState | None) -> Response:
    title, detail = UNAVAILABLE[state]
    return templates.TemplateResponse(request, "unavailable.html", {"title": title, "detail": detail},
                                      status_code=404 if state is None else 410)


def _bound(inv: InvitationRow, cookie: str | None) -> bool:
    """Whether this browser is the one that accepted the notice."""
    return bool(inv.browser_hash and cookie and same(digest(cookie), inv.browser_hash))


def _notice(inv: InvitationRow, ctx: WebContext) -> str:
    return templates.get_template("notice.txt").render(
        name=inv.candidate_name, position=ctx.app.banks.bank(inv.role).name, mode=inv.mode)


def _cookie(response: Response, ctx: WebContext, secret: str, name: str, value: str, *, httponly: bool = True) -> None:
    response.set_cookie(name, value, path=f"/i/{secret}", httponly=httponly, samesite="strict",
                        secure=ctx.app.config.web.secure_cookies, max_age=24 * 3600)


@router.get("/i/{secret}", response_class=HTMLResponse)
def link(request: Request, ctx: Ctx, secret: str) -> Response:
    inv = invitation_by_secret(ctx.store, secret)
    if inv is None:
        return _unavailable(request, None)
    state = link_state(inv, utcnow())
    bound = _bound(inv, request.cookies.get(BROWSER_COOKIE))
    if state is LinkState.CONSENTED and bound:
        return RedirectResponse(f"/i/{secret}/interview", status_code=303)
    if state is LinkState.STARTED and bound:
        # a typed interview the candidate left half-way (a reload, a lost connection) cannot go on from here
        detail = interview_detail(ctx.store, inv.interview_id) if inv.interview_id else None
        left = detail is not None and (detail.row.snapshot or {}).get("end_reason") in (None, "candidate_left")
        return templates.TemplateResponse(request, "candidate_end.html", {"name": inv.candidate_name,
                                                                          "interrupted": left})
    if state is not LinkState.OPEN:
        return _unavailable(request, state)
    csrf = new_secret()
    response = templates.TemplateResponse(request, "notice.html", {
        "inv": inv, "notice": _notice(inv, ctx), "csrf": csrf, "secret": secret,
        "position": ctx.app.banks.bank(inv.role).name})
    _cookie(response, ctx, secret, CSRF_COOKIE, csrf)
    return response


@router.post("/i/{secret}/consent")
def consent(request: Request, ctx: Ctx, secret: str, csrf: Annotated[str, Form()],
            accept: Annotated[str, Form()] = "") -> Response:
    inv = invitation_by_secret(ctx.store, secret)
    if inv is None:
        return _unavailable(request, None)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not same(cookie, csrf) or accept != "yes":
        return RedirectResponse(f"/i/{secret}", status_code=303)  # the notice again
    browser = new_secret()
    if not accept_notice(ctx.store, inv.id, text=_notice(inv, ctx), browser_secret=browser):
        return _unavailable(request, link_state(inv, utcnow()))
    log.info("invitation %s: the candidate accepted the notice", inv.id)
    response = RedirectResponse(f"/i/{secret}/interview", status_code=303)
    _cookie(response, ctx, secret, BROWSER_COOKIE, browser)
    return response


def _consented(request: Request, ctx: WebContext, secret: str, cookie: str | None
               ) -> tuple[InvitationRow | None, Response | None]:
    """The invitation if this browser accepted its notice and the interview has not started; else the page to show."""
    inv = invitation_by_secret(ctx.store, secret)
    if inv is None:
        return None, _unavailable(request, None)
    state = link_state(inv, utcnow())
    if state is LinkState.OPEN:  # the notice first
        return None, RedirectResponse(f"/i/{secret}", status_code=303)
    if state is not LinkState.CONSENTED or not _bound(inv, cookie):
        return None, _unavailable(request, state)
    return inv, None


@router.get("/i/{secret}/interview", response_class=HTMLResponse)
def interview(request: Request, ctx: Ctx, secret: str) -> Response:
    inv, refusal = _consented(request, ctx, secret, request.cookies.get(BROWSER_COOKIE))
    if inv is None:
        assert refusal is not None
        return refusal
    csrf = new_secret()
    page = "voice.html" if inv.mode == "voice" else "text.html"
    response = templates.TemplateResponse(request, page, {
        "inv": inv, "position": ctx.app.banks.bank(inv.role).name, "csrf": csrf, "secret": secret})
    _cookie(response, ctx, secret, CSRF_COOKIE, csrf)
    return response


@router.post("/i/{secret}/voice")
def join_voice(request: Request, ctx: Ctx, secret: str,
               x_csrf_token: Annotated[str | None, Header()] = None) -> Response:
    """The LiveKit URL and a token for this interview's room only, usable for 15 minutes; the link is used."""
    inv, _ = _consented(request, ctx, secret, request.cookies.get(BROWSER_COOKIE))
    if inv is None or inv.mode != "voice":
        return JSONResponse({"error": "This link cannot start a voice interview."}, status_code=410)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not x_csrf_token or not same(cookie, x_csrf_token):
        return JSONResponse({"error": "Please reload the page."}, status_code=403)
    url, key, api_secret = (ctx.env.get(n, "") for n in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"))
    if not url:
        log.error("voice interview asked for, but $LIVEKIT_URL is not set for `sima serve`")
        return JSONResponse({"error": "Voice interviews are not available right now."}, status_code=503)
    room = f"sima-{inv.id}"
    try:
        token = candidate_token(key, api_secret, room=room, identity=f"candidate-{inv.id}",
                                agent_name=ctx.app.config.agent_name, name=inv.candidate_name, role=inv.role,
                                seniority=inv.level, ttl=JOIN_TTL, invitation_id=inv.id)
    except TokenError as exc:
        log.error("cannot mint a candidate token: %s", exc)
        return JSONResponse({"error": "Voice interviews are not available right now."}, status_code=503)
    if not start_interview(ctx.store, inv.id, room=room):
        return JSONResponse({"error": "This link was already used."}, status_code=410)
    log.info("invitation %s: voice interview in room %s", inv.id, room)
    return JSONResponse({"url": url, "token": token})


def _origin_ok(ws: WebSocket) -> bool:
    """Browsers send Origin with a WebSocket handshake: only our own pages may open one (no cross-site hijack)."""
    origin = ws.headers.get("origin")
    return origin is not None and origin.split("://", 1)[-1] == ws.headers.get("host")


@router.websocket("/i/{secret}/text")
async def text_socket(ws: WebSocket, secret: str) -> None:
    ctx: WebContext = ws.app.state.web
    inv = invitation_by_secret(ctx.store, secret)
    if (inv is None or inv.mode != "text" or not _origin_ok(ws) or link_state(inv, utcnow()) is not LinkState.CONSENTED
            or not _bound(inv, ws.cookies.get(BROWSER_COOKIE))):
        await ws.close(code=4403)
        return
    interview_id = uuid.uuid4().hex
    if not start_interview(ctx.store, inv.id, interview_id=interview_id):
        await ws.close(code=4410)
        return
    await ws.accept()
    log.info("invitation %s: typed interview %s", inv.id, interview_id)
    preset = Profile(name=inv.candidate_name, role=inv.role, level=Level(inv.level),
                     position=ctx.app.banks.bank(inv.role).name, source="preset")
    record = await run_socket_interview(ws, ctx.runtime(), preset=preset, interview_id=interview_id)
    if record is not None:
        await asyncio.to_thread(link_interview, ctx.store, interview_id, inv)

