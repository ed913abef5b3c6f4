"""The ASGI app of `sima serve`: recruiter pages and API, candidate pages, and SIMA's own static files.

Nothing is loaded from another site: the LiveKit browser client is the pinned npm package that set-up unpacked into
`web/static/vendor/`, and the pages' Content-Security-Policy allows scripts from this server only.

Example::

    >>> app = create_app(WebContext(...))          # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from sima.ops.metrics import asgi_app as metrics_app
from web import candidate, recruiter
from web.context import LIVEKIT_CLIENT, CsrfFailed, LoginRequired, WebContext, templates

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor"


def content_security_policy(livekit_url: str) -> str:
    """Scripts, styles and media from this server only; connections to it and to the LiveKit server.

    >>> content_security_policy("wss://lk.example.com").split("; ")[4]
    "connect-src 'self' wss://lk.example.com https://lk.example.com"
    """
    connect = ["'self'"]
    if livekit_url:
        host = urlsplit(livekit_url).netloc
        connect += [f"wss://{host}", f"https://{host}"] if livekit_url.startswith(("wss", "https")) else \
            [f"ws://{host}", f"http://{host}"]
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src {' '.join(connect)}", "media-src 'self' blob:", "frame-ancestors 'none'", "form-action 'self'",
        "base-uri 'none'"])


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(title="SIMA", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = ctx
    csp = content_security_policy(ctx.env.get("LIVEKIT_URL", ""))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # an invitation link must not leak in a Referer
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "login required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return templates.TemplateResponse(request, "unavailable.html", {
            "title": "This form expired", "detail": "Go back, reload the page and try again."}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return templates.TemplateResponse(request, "unavailable.html", {
            "title": str(exc.detail).capitalize(), "detail": ""}, status_code=exc.status_code)

    @app.get(f"/static/vendor/{LIVEKIT_CLIENT}")
    def livekit_client() -> Response:
        path = ctx.vendor_dir / LIVEKIT_CLIENT
        if not path.is_file():
            log.error("%s is missing: run scripts/bootstrap.sh (it unpacks the pinned livekit-client)", path)
            return Response("livekit-client is not installed on this server", status_code=404)
        return FileResponse(path, media_type="text/javascript")

    app.include_router(recruiter.router)
    app.include_router(candidate.router)
    # Prometheus scrapes: this process's metrics and the evaluation queue and webhook outbox, read from the database
    app.mount("/metrics", metrics_app(ctx.store), name="metrics")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
