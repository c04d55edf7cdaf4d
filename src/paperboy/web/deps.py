"""What every route needs, below the app factory and its routers: `Web` (the settings, the
store, the search engine, the one template environment), `web_of(request)` to reach it, and
`off_the_loop` for async handlers that read the store.

    from paperboy.web.deps import web_of

    @router.get("/x")
    def x(request: Request):
        web = web_of(request)
        return web.render(request, "x.html", papers=web.store.latest(10))

`web/app.py` builds the `Web` and includes the routers; the routers import this module, never
the app, so the import graph has no cycle. Every HTML page, the subscription pages included,
is rendered by `Web.render` from `templates/` and extends `base.html`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from paperboy import latex
from paperboy.config import Settings
from paperboy.feeds import shown_votes
from paperboy.links import TEMPLATE_FILTERS
from paperboy.papers import Paper
from paperboy.store.discussions import Discussions
from paperboy.web import auth
from paperboy.web.media import attach_media
from paperboy.web.views import Card, plural

if TYPE_CHECKING:
    from paperboy.search.engine import HybridSearch
    from paperboy.store.sql import SQLStore

T = TypeVar("T")


@dataclass
class Web:
    """What every route needs: the settings, the store, the search engine and the templates."""

    settings: Settings
    store: SQLStore
    search: HybridSearch
    templates: jinja2.Environment

    def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        headers: dict | None = None,
        new_csrf: bool = True,
        **context,
    ) -> HTMLResponse:
        """The page, with the signed-in user and the CSRF value its forms need. `new_csrf=False`:
        a visitor without a CSRF cookie gets none (pages with no session form, whose text must
        be the same for every visitor)."""
        csrf = auth.csrf_value(request) if new_csrf else request.cookies.get(auth.CSRF_COOKIE, "")
        context.update(request=request, user=auth.session_user(self.store, request), csrf=csrf)
        html = self.templates.get_template(template).render(context)
        response = HTMLResponse(html, status_code=status, headers=headers)
        fresh = getattr(request.state, "new_csrf", None)
        if fresh:
            auth.set_csrf_cookie(response, request, fresh)
        return response

    def cards(self, request: Request, ranked: list[tuple[Paper, int]]) -> list[Card]:
        """Cards for (paper, local votes) pairs, with the shown votes (feeds.shown_votes),
        marking the ones the signed-in user voted for."""
        user = auth.session_user(self.store, request)
        voted = (
            self.store.voted_by(user.id, [p.id for p, _ in ranked]) if user and ranked else set()
        )
        talk = Discussions(self.store).counts(p.id for p, _ in ranked) if ranked else {}
        return attach_media(
            self.store,
            [
                Card(p, shown_votes(p, local), p.id in voted, talk=talk.get(p.id, 0))
                for p, local in ranked
            ],
        )

    def cards_for(self, request: Request, papers: list[Paper]) -> list[Card]:
        local = self.store.local_votes(p.id for p in papers) if papers else {}
        return self.cards(request, [(p, local.get(p.id, 0)) for p in papers])


def web_of(request: Request) -> Web:
    return request.app.state.web


def templates() -> jinja2.Environment:
    """The one template environment of the site (pages, subscription pages, API docs page)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("paperboy.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["longdate"] = lambda d: d.strftime("%a %-d %b %Y") if d else ""
    env.filters.update(TEMPLATE_FILTERS)  # outside URLs become links only through these
    # Titles and abstracts are LaTeX: `tex` shows text-mode macros as HTML, math for KaTeX.
    env.filters["tex"] = lambda text, links=False, spans=(): Markup(
        latex.to_html(text, spans=spans, links=links)
    )
    env.filters["tex_text"] = latex.to_text
    env.filters["plural"] = plural
    # One path segment of a link (an author's or organization's name): every reserved
    # character quoted, "/" too, which `urlencode` leaves as it is (the routes take
    # `{name:path}`, so "A/B" arrives whole).
    env.filters["segment"] = lambda value: quote(str(value), safe="")
    return env


async def off_the_loop(request: Request, work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, a handler's store reads and render, where it cannot stall the event loop.

    On a SQLite file the reads take well under a millisecond and never wait on a writer (WAL),
    so they run inline: a thread hop would cost more than the work. On PostgreSQL a query waits
    on the network, a lock or a busy server, and every other request would wait with it on the
    event loop: there the work runs in the threadpool."""
    if getattr(web_of(request).store, "dialect", "") == "sqlite":
        return work(*args)
    return await run_in_threadpool(work, *args)
