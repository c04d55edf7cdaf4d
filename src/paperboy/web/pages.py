"""The HTML pages: daily/weekly/monthly feeds, trending, paper pages, search, submit (and a
queued submission's status), upvotes.

Every page reads without JavaScript; forms post back with a CSRF token and redirect (303), and
the small script in static/app.js upgrades upvotes to in-place updates.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from markupsafe import Markup

from paperboy import bounds, feeds, latex
from paperboy.feeds import Period
from paperboy.papers import InvalidArxivId, parse_arxiv_id, try_parse_arxiv_id
from paperboy.search import SORTS, Filters
from paperboy.store.submissions import Submission
from paperboy.web import auth, discussions, limits, people
from paperboy.web.deps import off_the_loop, web_of
from paperboy.web.marks import snippet
from paperboy.web.media import paper_words
from paperboy.web.submit import SubmitRefused, status_text, submit_paper
from paperboy.web.views import Card, bibtex

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
SEARCH_PAGE_SIZE = 20
TRENDING_SIZE = 50
ATOM_OF = {"day": "daily", "week": "weekly", "month": "monthly"}  # each page's Atom feed
Page = Query(1, ge=1, le=10_000, description="1-based page number")
SubmissionId = Path(ge=1, le=2**62, description="the number a submission was given")


def period_url(period: Period) -> str:
    kind = {"day": "date", "week": "week", "month": "month"}[period.kind]
    return f"/papers/{kind}/{period.label}"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirected to after a form (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _feed(request: Request, period: Period | None, page: int, note: str | None = None):
    web = web_of(request)
    store = web.store
    if period is None:
        latest = store.latest_day()
        if latest is None:
            return web.render(
                request,
                "feed.html",
                period=None,
                cards=[],
                total=0,
                page=1,
                pages=1,
                prev=None,
                next=None,
                tabs=_tabs(None),
                heading="Papers",
                note=None,
            )
        period = feeds.period_of("day", latest)
    total = store.count_between(period.first, period.last)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise HTTPException(
            404,
            f"page {page} is past the end: {period.label} has {pages} "
            f"page{'s' if pages > 1 else ''} of papers",
        )
    ranked = store.ranked_between(period.first, period.last, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    before = store.day_before(period.first)
    after = store.day_after(period.last)
    return web.render(
        request,
        "feed.html",
        period=period,
        cards=web.cards(request, ranked),
        total=total,
        page=page,
        pages=pages,
        heading=_heading(period),
        tabs=_tabs(period),
        prev=period_url(period.containing(before)) if before else None,
        next=period_url(period.containing(after)) if after else None,
        base=period_url(period),
        atom=f"/feeds/{ATOM_OF[period.kind]}.atom",
        note=note,
    )


def _heading(period: Period) -> str:
    if period.kind == "day":
        return f"Daily papers · {period.first.strftime('%A %-d %B %Y')}"
    if period.kind == "week":
        return (
            f"Weekly papers · {period.label} ({period.first.strftime('%-d %b')} – "
            f"{period.last.strftime('%-d %b %Y')})"
        )
    return f"Monthly papers · {period.first.strftime('%B %Y')}"


def _tabs(period: Period | None) -> list[tuple[str, str, bool]]:
    """Daily / Weekly / Monthly / Trending links around the period being shown."""
    day = period.first if period else date.today()
    kind = period.kind if period else "day"
    return [
        ("Daily", period_url(feeds.period_of("day", day)), kind == "day"),
        ("Weekly", period_url(feeds.period_of("week", day)), kind == "week"),
        ("Monthly", period_url(feeds.period_of("month", day)), kind == "month"),
        ("Trending", "/papers/trending", kind == "trending"),
    ]


# The feed pages are a few store reads and a render: on a SQLite file (sub-millisecond reads)
# they run on the event loop, on PostgreSQL in the threadpool (deps.off_the_loop), so a slow
# query never holds up other requests; search, argon2 and arXiv always run in threads.
@router.get("/")
async def home(request: Request, page: int = Page):
    return await off_the_loop(request, _feed, request, None, page)


@router.get("/papers")
async def latest(request: Request, page: int = Page, q: str | None = None):
    if q is not None:
        return RedirectResponse(f"/search?{request.url.query}", status_code=307)
    return await off_the_loop(request, _feed, request, None, page)


@router.get("/papers/date/{day}")
async def daily(request: Request, day: str, page: int = Page):
    return await off_the_loop(request, _day_feed, request, feeds.parse_day(day).first, page)


def _day_feed(request: Request, day: date, page: int):
    # A weekend, a holiday or a future day shows the nearest day with papers, and says so.
    shown = feeds.shown_day(web_of(request).store, day)
    return _feed(request, feeds.period_of("day", shown.day), page, shown.note)


@router.get("/papers/week/{week}")
async def weekly(request: Request, week: str, page: int = Page):
    return await off_the_loop(request, _feed, request, feeds.parse_week(week), page)


@router.get("/papers/month/{month}")
async def monthly(request: Request, month: str, page: int = Page):
    return await off_the_loop(request, _feed, request, feeds.parse_month(month), page)


def trending_cards(web, request: Request, limit: int = TRENDING_SIZE) -> list[Card]:
    return web.cards(request, feeds.trending(web.store)[:limit])


@router.get("/papers/trending")
def trending(request: Request):
    web = web_of(request)
    return web.render(
        request,
        "trending.html",
        cards=trending_cards(web, request),
        tabs=_tabs(Period("trending", date.today(), date.today())),
        half_life=feeds.HALF_LIFE_DAYS,
        window=feeds.TRENDING_WINDOW_DAYS,
        star_weight=feeds.STAR_WEIGHT,
        atom="/feeds/trending.atom",
    )


@router.get("/search")
def search(
    request: Request,
    q: str = Query("", max_length=bounds.QUERY_CHARS),
    sort: str = "relevance",
    category: str = Query("", max_length=500),
    date_from: str = "",
    date_to: str = "",
    has_code: str = "",
    page: int = Page,
):
    web = web_of(request)
    q = q.strip()
    form = {
        "q": q,
        "sort": sort,
        "category": category,
        "date_from": date_from,
        "date_to": date_to,
        "has_code": bool(has_code),
    }
    if not q:
        return web.render(
            request,
            "search.html",
            form=form,
            cards=[],
            result=None,
            page=1,
            pages=1,
            sorts=SORTS,
            base="/search",
        )
    arxiv = try_parse_arxiv_id(q)
    if arxiv is not None:  # an id or URL jumps straight to the paper
        return RedirectResponse(f"/papers/{arxiv.id}", status_code=303)
    if sort not in SORTS:
        raise HTTPException(400, f"sort {sort!r} is not one of {', '.join(SORTS)}")
    filters = search_filters(category, date_from, date_to, has_code)
    result = web.search.search(
        q, filters, sort=sort, limit=SEARCH_PAGE_SIZE, offset=(page - 1) * SEARCH_PAGE_SIZE
    )
    cards = web.cards_for(request, [h.paper for h in result.hits])
    for card, hit in zip(cards, result.hits):
        # Matches are marked in the raw text, then its LaTeX is shown as on every card.
        card.title_html = Markup(latex.to_html(hit.paper.title, hit.title_spans))
        text, spans = snippet(hit.paper.abstract, hit.abstract_spans)
        card.blurb_html = Markup(latex.to_html(text, spans))
    pages = max(1, -(-result.total // SEARCH_PAGE_SIZE))
    query = urlencode(
        {k: v for k, v in form.items() if v and k != "has_code"}
        | ({"has_code": "1"} if has_code else {})
    )
    return web.render(
        request,
        "search.html",
        form=form,
        cards=cards,
        result=result,
        page=page,
        pages=pages,
        sorts=SORTS,
        base=f"/search?{query}",
        atom=f"/feeds/search.atom?{query}",
    )


def search_filters(category: str, date_from: str, date_to: str, has_code: str) -> Filters:
    """The search form's filters (also read by the search's Atom feed)."""
    return Filters(
        categories=[c for c in category.replace(",", " ").split() if c],
        date_from=feeds.parse_day(date_from).first if date_from else None,
        date_to=feeds.parse_day(date_to).first if date_to else None,
        has_code=True if has_code else None,
    )


@router.get("/submit")
def submit_form(request: Request, id: str = ""):
    web = web_of(request)
    if auth.session_user(web.store, request) is None:
        return RedirectResponse(
            "/signin?"
            + urlencode(
                {"next": request.url.path + (f"?{request.url.query}" if request.url.query else "")}
            ),
            status_code=303,
        )
    return web.render(request, "submit.html", value=id, error=None, done=None)


@router.post("/submit")
def submit(request: Request, id: str = Form(""), csrf_token: str = Form("")):
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    user = auth.session_user(web.store, request)
    if user is None:
        return RedirectResponse("/signin?next=/submit", status_code=303)
    limits.check(web.store, limits.SUBMIT, f"user:{user.id}")
    try:
        result = submit_paper(web.store, web.settings, user, id)
    except SubmitRefused as exc:
        return web.render(
            request,
            "submit.html",
            status=exc.status,
            headers=exc.headers,
            value=id,
            error=exc.message,
            existing=exc.paper_id,
            done=None,
        )
    if isinstance(result, Submission):  # queued for the worker: its status page follows it
        return RedirectResponse(f"/submissions/{result.id}", status_code=303)
    return web.render(request, "submit.html", status=201, value="", error=None, done=result)


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: int = SubmissionId):
    """Where a queued submission stands; reloads itself until it is done or failed."""
    web = web_of(request)
    found = web.store.submission(submission_id)
    if found is None:
        raise HTTPException(404, f"there is no submission {submission_id}")
    paper = web.store.get(found.paper_id) if found.status == "done" else None
    return web.render(
        request, "submission.html", submission=found, paper=paper, text=status_text(found)
    )


@router.get("/papers/{paper_id:path}")
def paper(request: Request, paper_id: str):
    web = web_of(request)
    try:
        arxiv = parse_arxiv_id(paper_id)
    except InvalidArxivId as exc:
        raise HTTPException(404, str(exc)) from None
    if arxiv.id != paper_id:
        return RedirectResponse(f"/papers/{arxiv.id}", status_code=301)
    found = web.store.get(arxiv.id)
    if found is None:
        return web.render(request, "missing.html", status=404, paper_id=arxiv.id)
    card = web.cards_for(request, [found])[0]
    similar = web.search.similar(found.id, limit=5)
    return web.render(
        request,
        "paper.html",
        card=card,
        paper=found,
        bibtex=bibtex(found),
        similar=web.cards_for(request, [h.paper for h in similar]),
        authors_open=len(found.authors) if len(found.authors) <= 15 else 10,
        **discussions.page_context(web, request, found),
        **people.page_context(web, request, found, card.votes),
        **paper_words(web.store, found),
        **saving_context(request, found.id),
    )


def _paper_or_404(web, paper_id: str):
    arxiv = try_parse_arxiv_id(paper_id)
    found = web.store.get(arxiv.id) if arxiv else None
    if found is None:
        raise HTTPException(404, f"no paper {paper_id!r} is stored here")
    return found


@router.post("/papers/{paper_id:path}/upvote")
def upvote(
    request: Request,
    paper_id: str,
    up: str = Form("1"),
    csrf_token: str = Form(""),
    next: str = Form(""),
):
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    wants_json = "application/json" in request.headers.get("accept", "")
    user = auth.session_user(web.store, request)
    if user is None:
        if wants_json:
            return JSONResponse({"error": "sign in to upvote", "signin": "/signin"}, 401)
        return RedirectResponse("/signin?" + urlencode({"next": safe_next(next)}), 303)
    limits.check(web.store, limits.UPVOTE, f"user:{user.id}")
    found = _paper_or_404(web, paper_id)
    votes = web.store.set_vote(user.id, found.id, up == "1")
    if wants_json:
        return {"id": found.id, "upvotes": votes, "upvoted": up == "1"}
    return RedirectResponse(safe_next(next, f"/papers/{found.id}"), status_code=303)


@router.post("/papers/{paper_id:path}/remove")
def remove_from_feed(request: Request, paper_id: str, csrf_token: str = Form("")):
    """Admins take a paper out of the daily feed (e.g. an off-topic submission)."""
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    user = auth.session_user(web.store, request)
    if user is None or not user.is_admin:
        raise HTTPException(403, "only admins can remove papers from the feed")
    found = _paper_or_404(web, paper_id)
    web.store.remove_from_feed(found.id)
    return RedirectResponse(f"/papers/{found.id}", status_code=303)


def saving_context(request: Request, paper_id: str) -> dict:
    # collections.py builds on api.py, which builds on this module: imported when used.
    from paperboy.web.collections import page_context

    return page_context(request, paper_id)
