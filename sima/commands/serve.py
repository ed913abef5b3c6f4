"""`sima serve [--host 127.0.0.1] [--port 8000]`: the web app — recruiter dashboard, invitations, candidate pages.

It reads the same config.yaml and database as `sima worker`. Typed interviews run inside this process (an
AgentSession in text mode per candidate); voice interviews run on the LiveKit workers, which this server hands each
candidate a token for ($LIVEKIT_URL, $LIVEKIT_API_KEY, $LIVEKIT_API_SECRET, as for the worker).

Example::

    sima users add ada < password.txt
    sima serve --port 8000 & sima worker start & sima evaluations worker
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sima.context import load_context

if TYPE_CHECKING:  # imported inside the functions: every other command would pay for FastAPI
    from pipeline.worker import WorkerRuntime
    from web.context import WebContext

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def build_web_context(config_path: Path | None, *, evaluate: bool = False, time_scale: float | None = None
                      ) -> WebContext:
    """Everything the web app needs, from config: the store, a runtime per typed interview, the login limiter."""
    from pipeline.registry import BuildContext
    from sima.commands.worker import load_runtime
    from storage.store import Store
    from web.app import VENDOR
    from web.auth import LoginLimiter
    from web.context import WebContext
    from web.evaluations import queue_evaluation

    app = load_context(config_path)
    settings = app.config.web
    base = load_runtime(config_path, evaluate=False, time_scale=time_scale)

    def runtime() -> WorkerRuntime:
        # its own build context, so the local model server one interview starts is stopped with that interview only
        return dataclasses.replace(base, build_ctx=BuildContext(cache_dir=base.build_ctx.cache_dir),
                                   on_finished=functools.partial(queue_evaluation, web))

    web = WebContext(app=app, store=Store(app.config.storage.url), runtime=runtime, vendor_dir=VENDOR,
                     env=dict(os.environ), evaluate_now=evaluate,
                     limiter=LoginLimiter(attempts=settings.login_attempts,
                                          window_seconds=settings.login_window_minutes * 60))
    return web


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    evaluate: bool = typer.Option(False, help="also judge finished interviews in this process (they are queued "
                                              "either way; `sima evaluations worker` judges them)"),
    time_scale: float | None = typer.Option(None, "--time-scale", min=0.1, max=100,
                                            help="typed interviews' time runs this many times faster (demos)"),
) -> None:
    """Serve the recruiter dashboard and the candidates' interview pages."""
    import uvicorn

    from web.app import create_app

    web = build_web_context(ctx.find_root().obj, evaluate=evaluate, time_scale=time_scale)
    if not web.env.get("LIVEKIT_URL"):
        log.warning("$LIVEKIT_URL is not set: voice invitations cannot start (typed ones can)")
    log.info("SIMA web app on http://%s:%d (invitation links use %s)", host, port, web.app.config.web.public_url)
    uvicorn.run(create_app(web), host=host, port=port, log_level="info", proxy_headers=False)
