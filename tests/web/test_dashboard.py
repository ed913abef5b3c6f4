"""The recruiter's interview list, a role's ranking and the interview page, over interviews in every state."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from storage.models import EvaluationRow, InterviewRow, JobRow, utcnow
from tests.web.conftest import login
from web.context import WebContext
from web.invitations import invite
from web.repo import accept_notice, start_interview

ENDED = {"ended_at": 600.0, "elapsed_seconds": 600.0, "phases": [
    {"phase": "introduction", "budget_seconds": 120, "started_at": 0, "ended_at": 150},
    {"phase": "experience", "budget_seconds": 240, "started_at": 150, "ended_at": 600}]}


def _interview(ctx: WebContext, iv: str, name: str, role: str, *, job: str | None = None,
               decision: str | None = None, score: float | None = None, ended: bool = True, hours_ago: int = 0,
               invitation_id: str | None = None) -> None:
    at = utcnow() - timedelta(hours=hours_ago)
    with ctx.store.session() as s, s.begin():
        s.add(InterviewRow(id=iv, candidate_name=name, role=role, level="mid", started_at=at, created_at=at,
                           updated_at=at, snapshot=ENDED if ended else {"ended_at": None, "phases": []},
                           invitation_id=invitation_id))
        s.flush()
        if job:
            s.add(JobRow(interview_id=iv, status=job, record={}, last_error="judge down" if job == "failed" else None))
            s.flush()
        if decision:
            s.add(EvaluationRow(interview_id=iv, overall_score=score, decision=decision, role_fit_percentage=50,
                                report={"summary": f"{name} summary", "ratings": {"overall_score": score},
                                        "recommendation": {"decision": decision, "role_fit_percentage": 50}},
                                json_path="", html_path=""))


def test_every_status_filters_and_sorts(client: TestClient, web_ctx: WebContext) -> None:
    _interview(web_ctx, "a", "Ann", "backend", job="done", decision="Hire", score=7.1, hours_ago=5)
    _interview(web_ctx, "b", "Ben", "backend", job="done", decision="Strong Hire", score=8.4, hours_ago=4)
    _interview(web_ctx, "c", "Cat", "backend", job="done", decision="Incomplete", score=2.0, hours_ago=3)
    _interview(web_ctx, "d", "Dan", "frontend", job="failed", hours_ago=2)
    _interview(web_ctx, "e", "Eve", "backend", job="pending", hours_ago=1)
    _interview(web_ctx, "f", "Fay", "backend")
    _interview(web_ctx, "g", "Gus", "backend", ended=False)
    invite(web_ctx.store, web_ctx.app.banks, candidate_name="Hal", role="backend", seniority="junior")
    # a voice interview: the worker recorded it under its invitation; it is listed once, as the interview
    voice, _ = invite(web_ctx.store, web_ctx.app.banks, candidate_name="Ivy", role="backend", seniority="mid")
    accept_notice(web_ctx.store, voice.id, text="notice", browser_secret="b")
    start_interview(web_ctx.store, voice.id, room=f"sima-{voice.id}")
    _interview(web_ctx, "i", "Ivy", "backend", ended=False, invitation_id=voice.id)
    login(client)

    rows = client.get("/api/interviews").json()
    assert {r["candidate"]: r["status"] for r in rows} == {
        "Ann": "evaluated", "Ben": "evaluated", "Cat": "incomplete", "Dan": "failed", "Eve": "evaluating",
        "Fay": "finished", "Gus": "in progress", "Hal": "invited", "Ivy": "in progress"}
    assert next(r for r in rows if r["candidate"] == "Ivy")["invitation_id"] == voice.id
    by_score = client.get("/api/interviews", params={"sort": "score", "order": "desc"}).json()
    assert [r["candidate"] for r in by_score[:3]] == ["Ben", "Ann", "Cat"]
    evaluated = client.get("/api/interviews", params={"status": "evaluated", "sort": "candidate", "order": "asc"})
    assert [r["candidate"] for r in evaluated.json()] == ["Ann", "Ben"]
    assert [r["candidate"] for r in client.get("/api/interviews", params={"role": "frontend"}).json()] == ["Dan"]
    assert [r["candidate"] for r in client.get("/api/interviews", params={"q": "an"}).json()] == ["Dan", "Ann"]
    # Cat's interview was Incomplete: never scored, so not ranked
    assert [(r["candidate"], r["decision"]) for r in client.get("/api/roles/backend").json()] == \
        [("Ben", "Strong Hire"), ("Ann", "Hire")]

    page = client.get("/", params={"status": "failed"})
    assert page.status_code == 200 and "Dan" in page.text and "Ann" not in page.text
    ranking = client.get("/roles/backend")
    assert ranking.text.index("Ben") < ranking.text.index("Ann") and "Cat" not in ranking.text
    detail = client.get("/interviews/d")
    assert "Evaluation failed: judge down" in detail.text
    shown = client.get("/interviews/a")
    assert "Ann summary" in shown.text and 'id="decision">Hire<' in shown.text
    assert "2:30 / 2:00" in shown.text  # the introduction ran over its budget
    assert client.get("/interviews/nope").status_code == 404
    assert client.get("/api/interviews/nope").json() == {"error": "no such interview"}
