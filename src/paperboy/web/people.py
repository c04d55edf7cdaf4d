"""People and organizations: author, organization and user pages, authorship claims, and who
upvoted a paper.

    GET  /authors/{name}?page=N                 papers listing this exact (normalized) name
    GET  /orgs/{name}?page=N                    papers Hugging Face filed under the organization
    GET  /users/{name}                          a user's confirmed papers, upvotes, comments
    POST /papers/{arxiv_id}/claim               "I am this author" (author_name), signed in
    POST /claims/{user_id}/{arxiv_id}/confirm   an admin confirms a claim
    POST /claims/{user_id}/{arxiv_id}/withdraw  the claimant withdraws it, or an admin refuses it
    POST /account/votes                         hide (hidden=1) or show my upvotes

The paper page's share (`page_context`): the upvoters' names ("+N more"), the claims, and the
claim form. SQL is in store/people.py; every form carries the CSRF token. Author and
organization names may hold "/" ("Jane Doe/ACME"): links quote every reserved character (the
templates' `segment` filter) and the routes take the rest of the path as the name. Author and
organization pages show PAGE (30) papers a page, as the feed does, so no page costs more than a
feed page however many papers a name has.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from paperboy.papers import Paper, try_parse_arxiv_id
from paperboy.store.discussions import Discussions
from paperboy.store.people import PAGE, ClaimRefused, People
from paperboy.web import auth, limits
from paperboy.web.deps import web_of
from paperboy.web.markup import comment_html

router = APIRouter(include_in_schema=False)
Page = Query(1, ge=1, le=10_000, description="1-based page number")  # as web/pages.py
UPVOTERS_SHOWN = 12


def page_context(web, request: Request, paper: Paper, votes: int) -> dict:
    """What the paper page shows of people: upvoters and authorship claims."""
    people = People(web.store)
    names, _ = people.upvoters(paper.id, UPVOTERS_SHOWN)
    claims = people.claims_on(paper.id)
    user = auth.session_user(web.store, request)
    return {
        "upvoters": names,
        # Every vote not named: local voters past the list or hiding theirs, and upstream votes.
        "upvoters_more": max(0, votes - len(names)),
        "claimed": {c.author_name: c.user for c in claims if c.status == "confirmed"},
        "claims": claims,
        "my_claim": next((c for c in claims if user and c.user_id == user.id), None),
    }


def _cards(web, request: Request, ids: list[str]):
    found = web.store.get_many(ids)
    return web.cards_for(request, [found[i] for i in ids if i in found])


def _page_of(total: int, page: int, what: str) -> tuple[int, int]:
    """(pages, offset) of `page`; 404 past the end, as the feed pages answer."""
    pages = max(1, -(-total // PAGE))
    if page > pages:
        raise HTTPException(404, f"page {page} is past the end: {what} has {pages} page(s)")
    return pages, (page - 1) * PAGE


@router.get("/authors/{name:path}")
def author(request: Request, name: str, page: int = Page):
    web = web_of(request)
    people = People(web.store)
    total = people.count_by_author(name)  # the indexed author-name table (store/authors.py)
    if not total:
        raise HTTPException(404, f"no stored paper lists an author named {name!r}")
    pages, offset = _page_of(total, page, f"the author {name!r}")
    return web.render(
        request,
        "author.html",
        name=name,
        total=total,
        cards=_cards(web, request, people.papers_by_author(name, PAGE, offset)),
        spellings=people.author_spellings(name),
        claimants=people.confirmed_as(name),
        page=page,
        pages=pages,
        base="/authors/" + quote(name, safe=""),
    )


@router.get("/orgs/{name:path}")
def organization(request: Request, name: str, page: int = Page):
    web = web_of(request)
    people = People(web.store)
    total = people.count_of_org(name)
    if not total:
        raise HTTPException(404, f"no paper in the feed is filed under the organization {name!r}")
    pages, offset = _page_of(total, page, f"the organization {name!r}")
    full, ids = people.papers_of_org(name, PAGE, offset)
    return web.render(
        request,
        "org.html",
        name=name,
        full=full or name,
        total=total,
        cards=_cards(web, request, ids),
        page=page,
        pages=pages,
        base="/orgs/" + quote(name, safe=""),
    )


@router.get("/users/{name}")
def profile(request: Request, name: str):
    web = web_of(request)
    shown = web.store.user_by_name(name)
    if shown is None:
        raise HTTPException(404, f"there is no user {name!r}")
    people = People(web.store)
    me = auth.session_user(web.store, request)
    hidden = people.votes_hidden(shown.id)
    upvoted = [] if hidden and not (me and me.id == shown.id) else people.upvoted(shown.id)
    claims = people.claims_by(shown.id)
    confirmed = [c.paper_id for c in claims if c.status == "confirmed"]
    return web.render(
        request,
        "profile.html",
        shown=shown,
        votes_hidden=hidden,
        papers=_cards(web, request, confirmed),
        pending=[c for c in claims if c.status == "pending"],
        upvoted=_cards(web, request, upvoted),
        comments=Discussions(web.store).by_user(shown.id),
        comment_html=comment_html,
    )


def _paper_id(web, paper_id: str) -> str:
    arxiv = try_parse_arxiv_id(paper_id)
    if arxiv is None or web.store.get(arxiv.id) is None:
        raise HTTPException(404, f"no paper {paper_id!r} is stored here")
    return arxiv.id


def _to_paper(paper_id: str) -> RedirectResponse:
    return RedirectResponse(f"/papers/{paper_id}", status_code=303)


@router.post("/papers/{paper_id:path}/claim")
def claim(request: Request, paper_id: str, author_name: str = Form(""), csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    limits.check(web.store, limits.CLAIM, f"user:{user.id}")
    pid = _paper_id(web, paper_id)
    try:
        People(web.store).claim(user.id, pid, author_name)
    except ClaimRefused as exc:
        raise HTTPException(400, str(exc)) from None
    return _to_paper(pid)


@router.post("/claims/{user_id}/{paper_id:path}/confirm")
def confirm(request: Request, user_id: int, paper_id: str, csrf_token: str = Form("")):
    web = web_of(request)
    admin = auth.signed_in(web.store, request, csrf_token)
    if not admin.is_admin:
        raise HTTPException(403, "only admins confirm authorship claims")
    pid = _paper_id(web, paper_id)
    if not People(web.store).confirm(user_id, pid, admin.id):
        raise HTTPException(404, f"user #{user_id} has no claim on {pid}")
    return _to_paper(pid)


@router.post("/claims/{user_id}/{paper_id:path}/withdraw")
def withdraw(request: Request, user_id: int, paper_id: str, csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    if user.id != user_id and not user.is_admin:
        raise HTTPException(403, "only the claimant or an admin can withdraw a claim")
    pid = _paper_id(web, paper_id)
    if not People(web.store).withdraw(user_id, pid):
        raise HTTPException(404, f"user #{user_id} has no claim on {pid}")
    return _to_paper(pid)


@router.post("/account/votes")
def hide_votes(request: Request, hidden: str = Form("1"), csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    People(web.store).set_votes_hidden(user.id, hidden == "1")
    return RedirectResponse("/account", status_code=303)
