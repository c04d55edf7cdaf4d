"""The app factory: one FastAPI application per Settings, with no module-level mutable state.

    app = create_app(Settings.load(data_dir="/tmp/pb"))
    uvicorn.run(app)

`app_from_env` is the factory `paperboy serve` hands to uvicorn, so every worker process builds
its own app (and its own store connections) from the settings the command resolved, and loads
the search model before it serves its first request.
What every route needs (`Web`, `web_of`, the one template environment) is in web/deps.py,
which the routers import; this module imports the routers and nothing imports it back.
Every response carries the security headers of web/headers.py (a Content-Security-Policy
without inline script, nosniff, no framing).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from importlib import resources

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from paperboy.config import Settings
from paperboy.feeds import BadPeriod
from paperboy.search import open_search
from paperboy.search.follow import IndexFollower, follows
from paperboy.store import open_store
from paperboy.web import (
    account_digests,
    accounts,
    api,
    collections,
    discussions,
    foryou,
    media,
    pages,
    people,
    reply_mail,
    rss,
    subscriptions,
)
from paperboy.web.deps import Web, templates, web_of
from paperboy.web.headers import HEADERS, SecurityHeaders
from paperboy.web.limits import RateLimited
from paperboy.web.openapi import without_422
from paperboy.web.rss import atom_error

log = logging.getLogger("paperboy.web")


def create_app(settings: Settings, store=None, search=None, warm: bool = False) -> FastAPI:
    """The whole web service for these settings (the store and search may be given by tests).
    `warm`: load the search model at start-up, before the first request is served."""
    store = store if store is not None else open_store(settings)
    search = search if search is not None else open_search(store, settings)
    app = FastAPI(
        title="paperboy",
        summary="Daily research papers, search and feeds; JSON shaped like Hugging Face's API.",
        version="0.1.0",
        docs_url=None,  # served below with the locally vendored Swagger UI (no CDN)
        redoc_url=None,
        lifespan=_serving(store, settings, search) if warm else None,
    )
    app.state.web = Web(settings, store, search, templates())
    app.add_middleware(SecurityHeaders)
    static = resources.files("paperboy.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    _add_error_handlers(app)
    _add_docs(app)
    _add_site_files(app, static)
    without_422(app)  # validation errors answer 400 (below), as documented
    # Before api and pages: their catch-all `/papers/{paper_id:path}` would take these paths.
    app.include_router(discussions.api)
    app.include_router(discussions.router)
    app.include_router(people.router)
    app.include_router(collections.api_router)
    app.include_router(collections.router)
    app.include_router(foryou.router)
    app.include_router(api.router)
    app.include_router(rss.router)
    app.include_router(accounts.router)
    app.include_router(account_digests.router)
    app.include_router(reply_mail.router)
    app.include_router(pages.router)
    app.include_router(subscriptions.router)
    app.include_router(media.router)  # thumbnails
    _add_demo_outbox(app, settings)
    return app


def _add_demo_outbox(app: FastAPI, settings: Settings) -> None:
    """/_outbox shows the demo's sent mail; only a demo's data directory gets it."""
    from paperboy.demo_dir import is_demo

    if is_demo(settings.data_dir):
        from paperboy.web import outbox

        app.include_router(outbox.router)


def _add_docs(app: FastAPI) -> None:
    # Our page rather than FastAPI's get_swagger_ui_html, whose inline <script> the
    # Content-Security-Policy refuses: static/docs.js starts the vendored Swagger UI.
    @app.get("/docs", include_in_schema=False)
    def docs():
        html = app.state.web.templates.get_template("docs.html").render(openapi_url=app.openapi_url)
        return HTMLResponse(html)


# Crawlers may read the feeds and the paper pages; a search, the API, the accounts and the
# forms are each a person's own question or page, and endless (every query is a new URL).
ROBOTS_TXT = """\
User-agent: *
Disallow: /search
Disallow: /papers?q=
Disallow: /feeds/search.atom
Disallow: /api/
Disallow: /docs
Disallow: /openapi.json
Disallow: /account
Disallow: /signin
Disallow: /signup
Disallow: /signout
Disallow: /submit
Disallow: /submissions/
Disallow: /subscribe
Disallow: /subscriptions/
Disallow: /for-you
"""


def _add_site_files(app: FastAPI, static) -> None:
    """/favicon.ico and /robots.txt, which browsers and crawlers ask for at the root."""
    icon = (static / "favicon.ico").read_bytes()  # favicon.svg drawn at 16 and 32 px

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(
            icon,
            media_type="image/vnd.microsoft.icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/robots.txt", include_in_schema=False)
    def robots():
        return PlainTextResponse(ROBOTS_TXT, headers={"Cache-Control": "public, max-age=86400"})


# `paperboy serve` hands its workers its resolved settings, serialised, in this variable.
SETTINGS_HANDOFF = "PAPERBOY_SERVE_SETTINGS"


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `paperboy serve`: the settings `paperboy serve` hands
    over (SETTINGS_HANDOFF), else those of the environment (PAPERBOY_*, PAPERBOY_CONFIG)."""
    handed = os.environ.get(SETTINGS_HANDOFF)
    settings = Settings.from_json(handed) if handed else Settings.load()
    return create_app(settings, warm=True)


def _serving(store, settings: Settings, search):
    """The lifespan of a `paperboy serve` worker: it warms the search engine before serving,
    in a thread, after the worker process exists (uvicorn starts workers fresh, so nothing
    loaded crosses a fork), off every request's path (uvicorn accepts connections after
    start-up); then, with index files, follows the store (search/follow.py: an index replica
    that takes papers written through other hosts) until the worker stops."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        started = time.perf_counter()
        try:
            models = await anyio.to_thread.run_sync(search.warm)
            log.info(
                "search warmed (%s) in %.1f s",
                ", ".join(models) or "keyword only",
                time.perf_counter() - started,
            )
        except Exception:  # a search that cannot start answers each query with why
            log.exception("warming the search engine failed; serving without it")
        with contextlib.ExitStack() as stack:
            if follows(store, settings) and hasattr(search, "indexes"):
                stack.enter_context(IndexFollower(store, settings, search))
            yield
            # Leaving the block stops the follower after its current look.
            await anyio.to_thread.run_sync(stack.close)

    return lifespan


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _wants_atom(request: Request) -> bool:
    """Feed readers get errors as Atom: they cannot show an HTML page."""
    return request.url.path.startswith("/feeds/")


def _error(request: Request, status: int, message: str, headers: dict | None = None):
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    if _wants_atom(request):
        return atom_error(request, status, message, headers)
    return web_of(request).render(
        request, "error.html", status=status, headers=headers, status_code=status, message=message
    )


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body"))
        kind = err.get("loc", ("",))[0]
        parts.append(f"{kind} parameter {where!r}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return _error(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return _error(request, 400, _validation_message(exc))

    @app.exception_handler(BadPeriod)
    async def bad_period(request: Request, exc: BadPeriod):
        return _error(request, 400, str(exc))

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return _error(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        # A bug, not bad input: log the traceback, show a page without internals.
        log.exception("error serving %s %s", request.method, request.url.path)
        message = "the server failed to answer this request; the error has been logged"
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=500, headers=HEADERS)
        if _wants_atom(request):
            return atom_error(request, 500, message, HEADERS)
        # This handler answers outside the middleware stack: it sets the headers itself.
        return HTMLResponse(
            f"<!doctype html><title>Server error</title><p>{message}</p>",
            status_code=500,
            headers=HEADERS,
        )
