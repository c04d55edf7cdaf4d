"""The "For you" pages: a user's own ranking, their library upload, "not interested", and a
private Atom feed.

    GET  /for-you?window=today|week        ranked for the signed-in user, with a reason each
    POST /for-you/dismiss                  "not interested" (or undo): the ranking learns it
    GET  /for-you/library                  upload a BibTeX/RIS file or a list of ids/DOIs
    POST /for-you/library                  match it; show what matched and what did not
    POST /for-you/feed                     a new private feed URL (shown once)
    GET  /feeds/for-you/{token}.atom       that feed, for readers (no cookies needed)

With no history (nothing upvoted, saved or imported) the page shows trending papers and says
so. The ranking is paperboy/foryou.py; the library reader paperboy/library.py.
"""

from __future__ import annotations

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from paperboy.foryou import WINDOWS, recommend
from paperboy.library import MAX_BYTES, LibraryFileError, match_library, read_library
from paperboy.store import StoreError
from paperboy.store.collections import Collections
from paperboy.store.library import Library
from paperboy.web import auth
from paperboy.web.deps import web_of
from paperboy.web.pages import safe_next, trending_cards
from paperboy.web.rss import atom_feed

router = APIRouter(include_in_schema=False)
_FILE = File(None)
NO_HISTORY = (
    "You have no history here yet, so these are the trending papers. Upvote papers, "
    "save them to a collection or import your library to get your own ranking."
)


def _user_or_signin(request: Request, path: str):
    user = auth.session_user(web_of(request).store, request)
    if user is None:
        return None, RedirectResponse(f"/signin?next={path}", status_code=303)
    return user, None


def ranked_cards(request: Request, user, window: str, limit: int = 30):
    """(cards with a reason each, fallback note or None) for this user."""
    web = web_of(request)
    found = recommend(web.store, web.search, user.id, window, limit)
    if found is None:
        return [(card, None) for card in trending_cards(web, request, limit)], NO_HISTORY
    cards = web.cards_for(request, [paper for paper, _ in found])
    return list(zip(cards, [why for _, why in found])), None


@router.get("/for-you")
def for_you(request: Request, window: str = "week"):
    user, redirect = _user_or_signin(request, "/for-you")
    if redirect:
        return redirect
    if window not in WINDOWS:
        raise HTTPException(400, f"window must be one of {', '.join(WINDOWS)}")
    web = web_of(request)
    items, note = ranked_cards(request, user, window)
    return web.render(
        request,
        "for_you.html",
        items=items,
        note=note,
        window=window,
        windows=list(WINDOWS),
        collections=Collections(web.store).of_user(user.id),
        feed_url=None,
        headers={"Cache-Control": "private, no-store"},
    )


@router.post("/for-you/dismiss")
def dismiss(
    request: Request,
    paper: str = Form(""),
    undo: str = Form(""),
    next: str = Form(""),
    csrf_token: str = Form(""),
):
    store = web_of(request).store
    user = auth.signed_in(store, request, csrf_token)
    if not Library(store).dismiss(user.id, paper.strip(), not undo):
        raise HTTPException(404, f"paper {paper!r} is not stored here")
    return RedirectResponse(safe_next(next, "/for-you"), status_code=303)


@router.get("/for-you/library")
def library_page(request: Request):
    user, redirect = _user_or_signin(request, "/for-you/library")
    if redirect:
        return redirect
    return _library_page(request, user)


def _library_page(request: Request, user, status: int = 200, result=None, problems=None):
    web = web_of(request)
    papers = Library(web.store).papers(user.id)
    stored = web.store.get_many(pid for pid, _ in papers)
    return web.render(
        request,
        "library.html",
        status=status,
        result=result,
        problems=problems,
        library=[(stored[pid], how) for pid, how in papers if pid in stored],
        max_mb=MAX_BYTES // 1_000_000,
    )


@router.post("/for-you/library")
async def import_library(
    request: Request,
    file: UploadFile | None = _FILE,
    ids: str = Form(""),
    csrf_token: str = Form(""),
):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    data = await file.read(MAX_BYTES + 1) if file is not None and file.filename else b""
    name = file.filename if data else "the pasted list"
    data = data or ids.encode()
    # Parsing megabytes of BibTeX and matching it are CPU and store work: off the event loop.
    return await run_in_threadpool(_import_library, request, user, data, name)


def _import_library(request: Request, user, data: bytes, name: str):
    web = web_of(request)
    try:
        entries = read_library(data, name)
        result = match_library(Library(web.store), entries)
        Library(web.store).replace(user.id, result.pairs())
    except LibraryFileError as exc:
        return _library_page(request, user, status=400, problems=exc.problems)
    except StoreError as exc:
        raise HTTPException(409, str(exc)) from None
    return _library_page(request, user, result=result)


@router.post("/for-you/feed")
def new_feed(request: Request, csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    token = auth.new_token()
    Library(web.store).set_feed_token(user.id, auth.token_hash(token))
    items, note = ranked_cards(request, user, "week")
    return web.render(
        request,
        "for_you.html",
        status=201,
        items=items,
        note=note,
        window="week",
        windows=list(WINDOWS),
        collections=Collections(web.store).of_user(user.id),
        feed_url=f"{str(request.base_url).rstrip('/')}/feeds/for-you/{token}.atom",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/feeds/for-you/{token}.atom")
def for_you_feed(request: Request, token: str):
    web = web_of(request)
    user = Library(web.store).feed_user(auth.token_hash(token))
    if user is None:
        raise HTTPException(404, "unknown or replaced feed link: make a new one on /for-you")
    items, note = ranked_cards(request, user, "week")
    response = atom_feed(
        request,
        f"paperboy · for {user.name}",
        [c for c, _ in items],
        note or "papers of the week ranked for you",
        alternate="/for-you",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
