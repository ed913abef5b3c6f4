"""Who may see what: recruiter routes need a login, forms need their CSRF token, logins are rate limited, a link that
cannot be used says so and hands out nothing, and no URL reaches a file outside SIMA's data folders."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.websockets import WebSocketDisconnect

from storage.models import InterviewRow, InvitationRow, utcnow
from tests.web.conftest import PASSWORD, login
from web import recruiter
from web.context import WebContext
from web.invitations import invite
from web.repo import invitation

CANDIDATE_OR_PUBLIC = re.compile(r"^/(i/|login|static/)")


def recruiter_routes() -> list[tuple[str, str]]:
    """Every route of the recruiter's router but the login form, with its path parameters filled in."""
    routes = []
    for route in recruiter.router.routes:
        if isinstance(route, APIRoute) and not CANDIDATE_OR_PUBLIC.match(route.path):
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            routes += [(method, path) for method in sorted(route.methods)]
    return routes


def test_anonymous_requests_to_every_recruiter_route_and_api_are_refused(client: TestClient) -> None:
    routes = recruiter_routes()
    assert len(routes) == 13 and ("GET", "/") in routes and ("GET", "/api/interviews") in routes
    for method, path in routes:
        response = client.request(method, path, data={"csrf": "x"} if method == "POST" else None)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json() == {"error": "login required"}
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next="), (method, path)


def test_a_forged_session_cookie_is_no_login(client: TestClient) -> None:
    client.cookies.set("sima_session", "forged")
    assert client.get("/api/interviews").status_code == 401


def test_login_logout_and_csrf(client: TestClient) -> None:
    assert login(client) == 303
    page = client.get("/")
    assert page.status_code == 200 and "Interviews" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    # a form without this session's token changes nothing
    refused = client.post("/invitations", data={"csrf": "forged", "candidate_name": "Eve", "role": "backend",
                                                "seniority": "mid"})
    assert refused.status_code == 403
    assert client.get("/api/invitations").json() == []
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/").status_code == 303
    assert client.get("/api/interviews").status_code == 401


def test_login_form_needs_its_own_token(client: TestClient) -> None:
    response = client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf": "guess", "next": "/"})
    assert response.status_code == 400 and "sima_session" not in response.cookies


def test_wrong_passwords_are_rate_limited(client: TestClient, web_ctx: WebContext) -> None:
    for _ in range(web_ctx.app.config.web.login_attempts):
        assert login(client, password="not the password") == 401
    # now even the right password waits out the window
    assert login(client) == 429
    assert client.get("/api/interviews").status_code == 401


def test_login_only_redirects_within_the_site(client: TestClient) -> None:
    form = client.get("/login", params={"next": "//evil.example/"})
    assert 'name="next" value="/"' in form.text


def _invitation(ctx: WebContext, **changes: object) -> str:
    inv, secret = invite(ctx.store, ctx.app.banks, candidate_name="Ada", role="backend", seniority="mid",
                         mode="voice")
    if changes:
        with ctx.store.session() as s, s.begin():
            s.execute(update(InvitationRow).where(InvitationRow.id == inv.id).values(**changes))
    return secret


@pytest.mark.parametrize(("changes", "title"), [
    ({"revoked_at": utcnow()}, "This invitation was withdrawn"),
    ({"expires_at": utcnow() - timedelta(minutes=1)}, "This link has expired"),
    ({"consent_at": utcnow(), "browser_hash": "0" * 64}, "This link was already used"),
    ({"consent_at": utcnow(), "started_at": utcnow(), "room": "sima-x"}, "This link was already used"),
])
def test_an_unusable_link_gets_a_clear_page_and_no_token(client: TestClient, web_ctx: WebContext,
                                                         changes: dict[str, object], title: str) -> None:
    secret = _invitation(web_ctx, **changes)
    for path in (f"/i/{secret}", f"/i/{secret}/interview"):
        page = client.get(path)
        assert page.status_code == 410 and title in page.text
        assert "csrf" not in page.text and "livekit" not in page.text.lower()
    joined = client.post(f"/i/{secret}/voice", headers={"X-CSRF-Token": "x"})
    assert joined.status_code == 410 and "token" not in joined.json()


def test_an_unknown_link_gets_a_clear_page(client: TestClient) -> None:
    page = client.get("/i/not-a-real-link")
    assert page.status_code == 404 and "This link is not valid" in page.text


def test_the_notice_must_be_accepted_before_anything_starts(client: TestClient, web_ctx: WebContext) -> None:
    secret = _invitation(web_ctx)
    notice = client.get(f"/i/{secret}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', notice.text).group(1)  # type: ignore[union-attr]
    declined = client.post(f"/i/{secret}/consent", data={"csrf": csrf})  # box not ticked
    assert declined.headers["location"] == f"/i/{secret}"
    assert client.get(f"/i/{secret}/interview").headers["location"] == f"/i/{secret}"  # the notice again
    assert client.post(f"/i/{secret}/voice", headers={"X-CSRF-Token": csrf}).status_code == 410
    accepted = client.post(f"/i/{secret}/consent", data={"csrf": csrf, "accept": "yes"})
    assert accepted.headers["location"] == f"/i/{secret}/interview"
    page = client.get(f"/i/{secret}/interview")
    assert page.status_code == 200 and "mic-check" in page.text
    # another browser (no cookie) cannot use the link any more
    assert TestClient(client.app).get(f"/i/{secret}").status_code == 410


def test_recordings_come_from_the_runs_folder_only(client: TestClient, web_ctx: WebContext) -> None:
    runs = web_ctx.app.config.paths.runs
    outside = runs.parent / "secret"
    outside.mkdir(parents=True)
    (outside / "conversation.wav").write_bytes(b"RIFF-not-yours")
    (runs / "iv-1").mkdir(parents=True)
    (runs / "iv-1" / "conversation.wav").write_bytes(b"RIFF-the-recording")
    with web_ctx.store.session() as s, s.begin():
        s.add_all([InterviewRow(id="iv-1"), InterviewRow(id="../secret")])
    login(client)
    assert client.get("/interviews/iv-1/recording").content == b"RIFF-the-recording"
    for path in ("/interviews/..%2Fsecret/recording", "/interviews/%2E%2E%2Fsecret/recording",
                 "/static/..%2F..%2Fconfig.yaml", "/static/../sima.db"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"not-yours" not in response.content


def test_pages_load_nothing_from_other_sites(client: TestClient, web_ctx: WebContext) -> None:
    secret = _invitation(web_ctx)
    page = client.get(f"/i/{secret}")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "connect-src 'self' wss://livekit.example.test" in csp
    assert page.headers["referrer-policy"] == "no-referrer"  # the link must not leak to another site
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


def test_a_typed_interview_socket_opens_for_the_consenting_browser_from_this_site_only(
        client: TestClient, web_ctx: WebContext) -> None:
    inv, secret = invite(web_ctx.store, web_ctx.app.banks, candidate_name="Ada", role="backend", seniority="mid",
                         mode="text")
    notice = client.get(f"/i/{secret}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', notice.text).group(1)  # type: ignore[union-attr]
    client.post(f"/i/{secret}/consent", data={"csrf": csrf, "accept": "yes"})
    for origin in ("http://evil.example", None):  # another site's page, or no browser at all
        headers = {"origin": origin} if origin else {}
        with pytest.raises(WebSocketDisconnect) as closed, \
                client.websocket_connect(f"/i/{secret}/text", headers=headers) as ws:
            ws.receive_json()
        assert closed.value.code == 4403
    with pytest.raises(WebSocketDisconnect) as closed, TestClient(client.app).websocket_connect(
            f"/i/{secret}/text", headers={"origin": "http://testserver"}) as ws:  # the right site, another browser
        ws.receive_json()
    assert closed.value.code == 4403
    with client.websocket_connect(f"/i/{secret}/text", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] in ("say", "progress")
    assert invitation(web_ctx.store, inv.id).interview_id  # type: ignore[union-attr]


def test_the_candidate_who_leaves_a_typed_interview_half_way_is_told_so(client: TestClient,
                                                                        web_ctx: WebContext) -> None:
    _, secret = invite(web_ctx.store, web_ctx.app.banks, candidate_name="Ada", role="backend", seniority="mid",
                       mode="text")
    notice = client.get(f"/i/{secret}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', notice.text).group(1)  # type: ignore[union-attr]
    client.post(f"/i/{secret}/consent", data={"csrf": csrf, "accept": "yes"})
    with client.websocket_connect(f"/i/{secret}/text", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] in ("say", "progress")
    back = client.get(f"/i/{secret}")  # a reload: the socket closed, and with it the interview
    assert back.status_code == 200 and "Your interview was interrupted" in back.text
    assert "score" not in back.text.lower() and "decision" not in back.text.lower()
