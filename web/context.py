"""What every request handler of the web app shares, and the login and CSRF checks they use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from pipeline.worker import WorkerRuntime
from sima.context import AppContext
from storage.store import Store
from web.auth import LoginLimiter, same
from web.repo import LoggedIn, session_user
from web.views import clock

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "sima_session"
LIVEKIT_CLIENT = "livekit-client.umd.js"

templates = Jinja2Templates(directory=TEMPLATES)  # .html templates are autoescaped
templates.env.filters["clock"] = clock


@dataclass
class WebContext:
    app: AppContext
    store: Store
    runtime: Callable[[], WorkerRuntime]  # a fresh runtime per typed interview (its own local model services)
    vendor_dir: Path  # where set-up unpacked the pinned livekit-client
    env: Mapping[str, str]  # LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET for voice interviews
    limiter: LoginLimiter
    evaluate_now: bool = False  # also judge queued evaluations in this process (`sima serve --evaluate`)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, job: Coroutine[Any, Any, Any]) -> None:
        """Run `job` in the background, keeping a reference so it is not collected half-way."""
        task = asyncio.create_task(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class LoginRequired(Exception):
    """Raised by :func:`recruiter`; pages redirect to the login form, `/api/` answers 401."""


class CsrfFailed(Exception):
    pass


def web(request: Request) -> WebContext:
    return request.app.state.web  # type: ignore[no-any-return]


def recruiter(request: Request) -> LoggedIn:
    """The logged-in recruiter, or LoginRequired."""
    secret = request.cookies.get(SESSION_COOKIE)
    user = session_user(web(request).store, secret) if secret else None
    if user is None:
        raise LoginRequired()
    return user


def check_csrf(user: LoggedIn, token: str | None) -> None:
    if not token or not same(token, user.csrf_token):
        raise CsrfFailed()
