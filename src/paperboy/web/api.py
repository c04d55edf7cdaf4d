"""The JSON API, shaped like Hugging Face's so existing clients and habits carry over.

    GET  /api/daily_papers?date=|week=|month=&sort=publishedAt|trending&p=&limit=
    GET  /api/papers/{arxiv_id}
    GET  /api/papers/search?q=&limit=
    POST /api/papers/{arxiv_id}/upvote      DELETE the same to take the vote back
    POST /api/papers/submit                 {"id": "2405.15738"}  (202 + statusUrl when queued)
    GET  /api/submissions/{n}               where a queued submission stands

Writes need a signed-in session plus the CSRF token (X-CSRF-Token header), or an API token
(`Authorization: Bearer ...`). Differences from Hugging Face's shapes: docs/api.md.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from paperboy import bounds, feeds
from paperboy.links import allowed_url
from paperboy.papers import Paper, try_parse_arxiv_id
from paperboy.search import Filters
from paperboy.store.submissions import Submission
from paperboy.web import auth, limits
from paperboy.web.deps import off_the_loop, web_of
from paperboy.web.marks import to_segments
from paperboy.web.openapi import (
    NEXT_PAGE,
    SHOWN_DATE,
    ItemOut,
    PaperOut,
    SearchItemOut,
    SubmissionOut,
    SubmitIn,
    VoteOut,
    answers,
    json_body,
)
from paperboy.web.submit import SubmitRefused, status_text, submit_paper
from paperboy.web.views import Card, blurb

router = APIRouter(prefix="/api", tags=["papers"])


def _stamp(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00.000Z" if day else None


def hf_paper(card: Card, full: bool = True) -> dict:
    """The `paper` object of Hugging Face's API for one card. In lists (`full=False`) at most
    `bounds.LIST_AUTHORS` names and `LIST_ABSTRACT_CHARS` of the abstract; `numAuthors` says
    how many there are, and `/api/papers/ID` has them all."""
    p, e = card.paper, card.paper.entry
    out = {
        "id": p.id,
        "authors": [
            {"name": name} for name in (p.authors if full else p.authors[: bounds.LIST_AUTHORS])
        ],
        "numAuthors": len(p.authors),
        "publishedAt": _stamp(p.published),
        "title": p.title,
        "summary": p.abstract if full else _summary(p.abstract),
        "upvotes": card.votes,
        # Clients make links of these: only URLs that pass the allow-list (paperboy.links).
        "githubRepo": allowed_url(p.code_url),
        "projectPage": allowed_url(p.project_url),
        "ai_keywords": p.keywords,
        # Fields HF does not have: arXiv metadata paperboy keeps.
        "categories": p.categories,
        "version": p.version,
        "updatedAt": _stamp(p.updated),
        "comment": p.comment,
        "doi": p.doi,
    }
    if e is not None:
        out["submittedOnDailyAt"] = _stamp(e.day)
        if e.submitted_by:
            out["submittedOnDailyBy"] = {"user": e.submitted_by, "fullname": e.submitted_by}
        if e.organization:
            out["organization"] = _org(card)
    return out


def _summary(abstract: str) -> str:
    return blurb(abstract, bounds.LIST_ABSTRACT_CHARS)


def _org(card: Card) -> dict | None:
    e = card.paper.entry
    if e is None or not e.organization:
        return None
    return {"name": e.organization, "fullname": e.organization_name or e.organization}


def hf_item(card: Card, full: bool = False) -> dict:
    """One item of `/api/daily_papers`: the paper plus its feed entry (a list item unless
    `full`: see `hf_paper`)."""
    e = card.paper.entry
    item = {
        "paper": hf_paper(card, full),
        "publishedAt": _stamp(e.day if e else card.paper.published),
        "title": card.paper.title,
        "summary": card.paper.abstract if full else _summary(card.paper.abstract),
        "numComments": card.comments,
        "submittedBy": {"name": e.submitted_by, "fullname": e.submitted_by}
        if e and e.submitted_by
        else None,
        "organization": _org(card),
        "isAuthorParticipating": False,
    }
    return item


@router.get(
    "/daily_papers",
    summary="Papers of the daily feed, HF-shaped",
    responses=answers(200, list[ItemOut], errors=(400,), headers=NEXT_PAGE | SHOWN_DATE),
)
async def daily_papers(  # store work off the loop where it can wait (deps.off_the_loop)
    request: Request,
    date: str | None = Query(None, description="YYYY-MM-DD"),
    week: str | None = Query(None, description="ISO week, YYYY-Www"),
    month: str | None = Query(None, description="YYYY-MM"),
    sort: str = Query("publishedAt", pattern="^(publishedAt|trending)$"),
    p: int = Query(0, ge=0, le=10_000, description="0-based page"),
    limit: int = Query(50, ge=1, le=bounds.API_PAGE_ITEMS),
):
    period = feeds.parse_period(date, week, month)
    return await off_the_loop(request, _daily_papers, request, period, sort, p, limit)


def _daily_papers(request: Request, period, sort: str, p: int, limit: int) -> JSONResponse:
    web = web_of(request)
    newest = web.store.latest_day()
    if newest is None:
        return JSONResponse([])
    headers = {}
    if period is not None and period.kind == "day":
        # Like HF's pages: a day without papers lists the nearest day with some. The list
        # keeps HF's shape; headers say which day it is and why.
        shown = feeds.shown_day(web.store, period.first)
        period = feeds.period_of("day", shown.day)
        headers["X-Paperboy-Date"] = shown.day.isoformat()
        if shown.note:
            headers["X-Paperboy-Date-Note"] = shown.note
    if sort == "trending":
        first, last = (
            feeds.trending_window(newest) if period is None else (period.first, period.last)
        )
        ranked = feeds.trending(web.store, (first, last), newest)
        page = web.cards(request, ranked[p * limit : (p + 1) * limit])
        more = len(ranked) > (p + 1) * limit
    else:
        first, last = (period.first, period.last) if period else (web.store.first_day(), newest)
        page = web.cards(
            request, web.store.ranked_between(first, last, limit + 1, p * limit, newest_first=True)
        )
        more = len(page) > limit
        page = page[:limit]
    if more:
        params = dict(request.query_params) | {"p": str(p + 1)}
        url = request.url.replace_query_params(**params)
        headers["Link"] = f'<{url}>; rel="next"'
    # A JSONResponse skips FastAPI's generic encoder walk: these are plain dicts already.
    return JSONResponse([hf_item(c) for c in page], headers=headers)


@router.get(
    "/papers/search",
    summary="Search papers, with highlighted title/summary segments",
    responses=answers(200, list[SearchItemOut], errors=(400,)),
)
def search_papers(
    request: Request,
    q: str = Query(..., min_length=1, max_length=bounds.QUERY_CHARS),
    limit: int = Query(20, ge=1, le=bounds.API_SEARCH_ITEMS),
):
    web = web_of(request)
    result = web.search.search(q, Filters(), sort="relevance", limit=limit, offset=0)
    cards = web.cards_for(request, [h.paper for h in result.hits])
    out = []
    for card, hit in zip(cards, result.hits):
        item = hf_item(card)
        item["highlightedTitle"] = to_segments(hit.paper.title, hit.title_spans)
        item["highlightedSummary"] = to_segments(item["summary"], hit.abstract_spans)
        item["score"] = hit.score
        out.append(item)
    return JSONResponse(out)


def _card(request: Request, paper_id: str) -> Card:
    web = web_of(request)
    arxiv = try_parse_arxiv_id(paper_id)
    if arxiv is None:
        raise HTTPException(404, f"{paper_id!r} is not an arXiv id")
    found: Paper | None = web.store.get(arxiv.id)
    if found is None:
        raise HTTPException(404, f"paper {arxiv.id} is not stored here")
    return web.cards_for(request, [found])[0]


def api_writer(request: Request):
    """The user behind an API write: an API token, or a session with its CSRF token."""
    web = web_of(request)
    user = auth.bearer_user(web.store, request)
    if user is not None:
        return user
    user = auth.session_user(web.store, request)
    if user is None:
        raise HTTPException(401, "sign in, or send 'Authorization: Bearer <API token>'")
    auth.check_csrf(request, None)
    return user


def submission_json(sub: Submission) -> dict:
    """A queued submission's status, with where to follow it and, once done, the paper."""
    out = {
        "submission": sub.id,
        "id": sub.paper_id,
        "status": sub.status,
        "message": status_text(sub),
        "attempts": sub.attempts,
        "submittedAt": sub.created_at,
        "finishedAt": sub.finished_at,
        "statusUrl": f"/api/submissions/{sub.id}",
    }
    if sub.status == "done":
        out["paperUrl"] = f"/api/papers/{sub.paper_id}"
    if sub.status == "failed":
        out["error"] = sub.message
    return out


@router.post(
    "/papers/submit",
    status_code=201,
    summary="Submit a paper to today's feed",
    responses=answers(201, ItemOut, errors=(400, 401, 403, 404, 409, 429, 503))
    | {
        202: {
            "model": SubmissionOut,
            "description": "Not stored here: queued to be fetched from arXiv; follow `statusUrl`",
            "headers": {
                "Location": {"description": "The status URL", "schema": {"type": "string"}}
            },
        }
    },
    openapi_extra=json_body(SubmitIn),
)
def submit(request: Request, body: dict = Body(...)):
    web = web_of(request)
    user = api_writer(request)
    limits.check(web.store, limits.SUBMIT, f"user:{user.id}")
    text = body.get("id") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise HTTPException(400, 'send {"id": "<arXiv id or URL>"}')
    try:
        result = submit_paper(web.store, web.settings, user, text)
    except SubmitRefused as exc:
        payload = {"error": exc.message} | ({"id": exc.paper_id} if exc.paper_id else {})
        return JSONResponse(payload, status_code=exc.status, headers=exc.headers)
    if isinstance(result, Submission):
        return JSONResponse(
            submission_json(result),
            status_code=202,
            headers={"Location": f"/api/submissions/{result.id}"},
        )
    return hf_item(web.cards_for(request, [result])[0], full=True)


@router.get(
    "/submissions/{submission_id}",
    summary="Where a queued submission stands",
    responses=answers(200, SubmissionOut, errors=(400, 404)),
)
def submission(
    request: Request, submission_id: int = Path(ge=1, le=2**62, description="from `statusUrl`")
):
    found = web_of(request).store.submission(submission_id)
    if found is None:
        raise HTTPException(404, f"there is no submission {submission_id}")
    return JSONResponse(submission_json(found))


def _vote(request: Request, paper_id: str, up: bool) -> dict:
    web = web_of(request)
    user = api_writer(request)
    limits.check(web.store, limits.UPVOTE, f"user:{user.id}")
    card = _card(request, paper_id)
    votes = web.store.set_vote(user.id, card.paper.id, up)
    return {"id": card.paper.id, "upvotes": votes, "upvoted": up}


VOTE_ANSWERS = answers(200, VoteOut, errors=(401, 403, 404, 429))


@router.post(
    "/papers/{paper_id:path}/upvote", summary="Upvote a paper (idempotent)", responses=VOTE_ANSWERS
)
def upvote(request: Request, paper_id: str):
    return _vote(request, paper_id, True)


@router.delete(
    "/papers/{paper_id:path}/upvote", summary="Take your upvote back", responses=VOTE_ANSWERS
)
def unvote(request: Request, paper_id: str):
    return _vote(request, paper_id, False)


@router.get(
    "/papers/{paper_id:path}",
    summary="One paper, HF-shaped",
    responses=answers(200, PaperOut, errors=(404,)),
)
def paper(request: Request, paper_id: str):
    return JSONResponse(hf_paper(_card(request, paper_id)))
