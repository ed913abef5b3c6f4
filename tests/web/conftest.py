"""Fixtures for the web tests: the app wired by `sima serve`'s own code, on a temporary database and folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sima.commands.serve import build_web_context
from tests.support.openai_server import ScriptedOpenAI
from tests.web.support import scripted_model, write_config
from web.app import create_app
from web.context import WebContext
from web.repo import add_user

PASSWORD = "correct horse battery"
LIVEKIT = {"LIVEKIT_URL": "wss://livekit.example.test", "LIVEKIT_API_KEY": "test-key",
           "LIVEKIT_API_SECRET": "test-secret-that-is-long-enough-for-hs256"}


@pytest.fixture
def model() -> Iterator[ScriptedOpenAI]:
    with scripted_model() as server:
        yield server


@pytest.fixture
def web_ctx(tmp_path: Path, model: ScriptedOpenAI) -> WebContext:
    # judged in this process, as `sima serve --evaluate` does (no `sima evaluations worker` beside the tests)
    ctx = build_web_context(write_config(tmp_path, model.base_url), evaluate=True)
    ctx.env = LIVEKIT
    add_user(ctx.store, "ada", PASSWORD)
    return ctx


@pytest.fixture
def client(web_ctx: WebContext) -> TestClient:
    return TestClient(create_app(web_ctx), base_url="http://testserver", follow_redirects=False)


def login(client: TestClient, name: str = "ada", password: str = PASSWORD) -> int:
    form = client.get("/login")
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf, "next": "/"}).status_code
