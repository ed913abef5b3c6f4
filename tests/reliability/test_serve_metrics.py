"""`sima serve` answers Prometheus scrapes at /metrics (the web app wired by its own code)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.evaluation.helpers import make_record
from tests.web.conftest import LIVEKIT, model, web_ctx  # noqa: F401  (fixtures, found by name)
from web.app import create_app
from web.context import WebContext


def test_sima_serve_exposes_metrics(web_ctx: WebContext) -> None:  # noqa: F811
    web_ctx.env = LIVEKIT
    web_ctx.store.enqueue_evaluation("iv-s", make_record("iv-s"))
    client = TestClient(create_app(web_ctx), base_url="http://testserver", follow_redirects=True)
    response = client.get("/metrics/")
    assert response.status_code == 200
    assert 'sima_evaluation_queue_jobs{status="pending"} 1.0' in response.text
    assert "sima_interviews_in_progress" in response.text
