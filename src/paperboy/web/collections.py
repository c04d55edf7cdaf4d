"""Collections (reading lists) on the web: pages, exports, a public Atom feed and the API.

    GET  /collections                       your collections (and a form to make one)
    GET  /collections/{id}                  one collection: its owner always, others if public
    GET  /collections/{id}.bib | .ris       the collection for reference managers
    GET  /feeds/collections/{id}.atom       public collections only
    POST /collections, /collections/{id}/edit|delete|papers, .../papers/{pid}/remove  (forms)
    GET|POST /api/collections, GET|PATCH|DELETE /api/collections/{id},
    PUT|DELETE /api/collections/{id}/papers/{paper id}   {"note": "..."}

Privacy: a private collection answers 404 to everyone but its owner, by page, export, API and
feed alike (the feed has no owner: feed readers send no cookies), so its existence is not
told either. Forms carry the CSRF token; the API takes an API token (`Authorization: Bearer`)
or a session with the X-CSRF-Token header, as the rest of the API does.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperboy.citations import to_bibtex, to_ris
from paperboy.papers import try_parse_arxiv_id
from paperboy.store.accounts import User
from paperboy.store.collections import (
    MAX_NAME,
    MAX_NOTE,
    Collection,
    CollectionLimit,
    CollectionNameTaken,
    Collections,
)
from paperboy.web import auth, limits
from paperboy.web.api import api_writer, hf_item
from paperboy.web.deps import web_of
from paperboy.web.rss import atom_feed

router = APIRouter(include_in_schema=False)
# Out of the OpenAPI schema for now: its answers are not yet declared (web/openapi.py), and
# the schema fuzz test holds every declared path to them. Documented in docs/api.md.
api_router = APIRouter(prefix="/api/collections", tags=["collections"], include_in_schema=False)
_JSON, _MAYBE_JSON = Body(...), Body(None)


def _shelf(request: Request) -> Collections:
    return Collections(web_of(request).store)


def _signed_in(request: Request, csrf_token: str) -> User:
    """The user of a form post (its CSRF token checked), or 401 / 403."""
    return auth.signed_in(web_of(request).store, request, csrf_token)


def visible(collection: Collection | None, user: User | None) -> Collection:
    """The collection if this viewer may see it; 404 otherwise, private ones included."""
    if collection is None or not (
        collection.is_public or (user is not None and user.id == collection.user_id)
    ):
        raise HTTPException(404, "there is no such collection, or it is private")
    return collection


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise HTTPException(400, "a collection needs a name")
    if len(name) > MAX_NAME:
        raise HTTPException(400, f"a collection name has at most {MAX_NAME} characters")
    return name


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise HTTPException(400, f"a note has at most {MAX_NOTE} characters")
    return note


def _paper_id(text: str) -> str:
    found = try_parse_arxiv_id(text or "")
    if found is None:
        raise HTTPException(400, f"{text!r} is not an arXiv id")
    return found.id


def _create(request: Request, user: User, name: str, public: bool) -> Collection:
    most = web_of(request).settings.web.collections_per_user
    try:
        return _shelf(request).create(user.id, _clean_name(name), public, most)
    except CollectionNameTaken as exc:
        raise HTTPException(409, str(exc)) from None
    except CollectionLimit as exc:
        raise HTTPException(400, f"{exc} (setting collections_per_user)") from None


def _add(request: Request, user: User, collection_id: int, paper: str, note: str) -> str:
    pid = _paper_id(paper)
    shelf = _shelf(request)
    visible(shelf.get(collection_id), user)
    if shelf.get(collection_id).user_id != user.id:
        raise HTTPException(403, "this collection is not yours")
    settings = web_of(request).settings.web
    saves = limits.Limit("collection save", settings.collection_saves_per_minute, 60)
    limits.check(web_of(request).store, saves, f"user:{user.id}")  # 429, saying how long
    try:
        most = settings.collection_papers
        added = shelf.add(collection_id, user.id, pid, _clean_note(note), most)
    except CollectionLimit as exc:
        raise HTTPException(400, f"{exc} (setting collection_papers)") from None
    if not added:
        raise HTTPException(404, f"paper {pid} is not stored here")
    return pid


def _papers(request: Request, collection: Collection):
    """(card, note) pairs of a collection, the latest saved first."""
    web = web_of(request)
    entries = _shelf(request).entries(collection.id)
    papers = web.store.get_many(e.paper_id for e in entries)
    kept = [e for e in entries if e.paper_id in papers]
    cards = web.cards_for(request, [papers[e.paper_id] for e in kept])
    return list(zip(cards, [e.note for e in kept]))


# -- pages -----------------------------------------------------------------------------------
@router.get("/collections")
def my_collections(request: Request):
    web = web_of(request)
    user = auth.session_user(web.store, request)
    if user is None:
        return RedirectResponse("/signin?next=/collections", status_code=303)
    return web.render(
        request, "collections.html", collections=_shelf(request).of_user(user.id), error=None
    )


@router.post("/collections")
def create_collection(
    request: Request, name: str = Form(""), public: str = Form(""), csrf_token: str = Form("")
):
    made = _create(request, _signed_in(request, csrf_token), name, public == "1")
    return RedirectResponse(f"/collections/{made.id}", status_code=303)


@router.get("/collections/{collection_id}.bib")
def export_bibtex(request: Request, collection_id: int):
    return _export(request, collection_id, "bib")


@router.get("/collections/{collection_id}.ris")
def export_ris(request: Request, collection_id: int):
    return _export(request, collection_id, "ris")


def _export(request: Request, collection_id: int, kind: str) -> Response:
    web = web_of(request)
    found = visible(_shelf(request).get(collection_id), auth.session_user(web.store, request))
    pairs = _papers(request, found)
    papers, notes = [c.paper for c, _ in pairs], {c.paper.id: n for c, n in pairs if n}
    body = to_bibtex(papers, notes) if kind == "bib" else to_ris(papers, notes)
    media = "application/x-bibtex" if kind == "bib" else "application/x-research-info-systems"
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="collection-{found.id}.{kind}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/collections/{collection_id}")
def collection_page(request: Request, collection_id: int):
    web = web_of(request)
    user = auth.session_user(web.store, request)
    found = visible(_shelf(request).get(collection_id), user)
    return web.render(
        request,
        "collection.html",
        collection=found,
        items=_papers(request, found),
        mine=user is not None and user.id == found.user_id,
        atom=f"/feeds/collections/{found.id}.atom" if found.is_public else None,
        headers={"Cache-Control": "private, no-store"},
    )


@router.post("/collections/{collection_id}/edit")
def edit_collection(
    request: Request,
    collection_id: int,
    name: str = Form(""),
    public: str = Form(""),
    csrf_token: str = Form(""),
):
    user = _signed_in(request, csrf_token)
    try:
        done = _shelf(request).update(collection_id, user.id, _clean_name(name), public == "1")
    except CollectionNameTaken as exc:
        raise HTTPException(409, str(exc)) from None
    if done is None:
        raise HTTPException(404, "there is no such collection, or it is private")
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.post("/collections/{collection_id}/delete")
def delete_collection(request: Request, collection_id: int, csrf_token: str = Form("")):
    if not _shelf(request).delete(collection_id, _signed_in(request, csrf_token).id):
        raise HTTPException(404, "there is no such collection, or it is private")
    return RedirectResponse("/collections", status_code=303)


@router.post("/collections/{collection_id}/papers")
def save_paper(
    request: Request,
    collection_id: int,
    paper: str = Form(""),
    note: str = Form(""),
    next: str = Form(""),
    csrf_token: str = Form(""),
):
    return _save_from_form(request, collection_id, paper, note, next, csrf_token)


@router.post("/collections/save")
def save_to_chosen(
    request: Request,
    collection: int = Form(0),
    paper: str = Form(""),
    note: str = Form(""),
    next: str = Form(""),
    csrf_token: str = Form(""),
):
    """The paper page's form: the collection is chosen in the form, not in the URL."""
    return _save_from_form(request, collection, paper, note, next, csrf_token)


def _save_from_form(
    request: Request, collection_id: int, paper: str, note: str, next: str, csrf_token: str
) -> RedirectResponse:
    from paperboy.web.pages import safe_next

    _add(request, _signed_in(request, csrf_token), collection_id, paper, note)
    return RedirectResponse(safe_next(next, f"/collections/{collection_id}"), status_code=303)


def page_context(request: Request, paper_id: str) -> dict:
    """What the paper page needs to offer "Save to a collection": the viewer's collections,
    and those that hold this paper already."""
    user = auth.session_user(web_of(request).store, request)
    if user is None:
        return {"my_collections": [], "saved_in": []}
    shelf = _shelf(request)
    mine = shelf.of_user(user.id)
    holding = shelf.holding(user.id, paper_id)
    saved = [c for c in mine if c.id in holding]
    return {"my_collections": mine, "saved_in": saved}


@router.post("/collections/{collection_id}/papers/{paper_id:path}/remove")
def remove_paper(request: Request, collection_id: int, paper_id: str, csrf_token: str = Form("")):
    user = _signed_in(request, csrf_token)
    if not _shelf(request).remove(collection_id, user.id, _paper_id(paper_id)):
        raise HTTPException(404, "that paper is not in a collection of yours")
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.get("/feeds/collections/{collection_id}.atom")
def collection_feed(request: Request, collection_id: int):
    found = visible(_shelf(request).get(collection_id), None)  # readers send no cookies
    cards = [c for c, _ in _papers(request, found)]
    return atom_feed(
        request,
        f"paperboy · {found.name} (a collection by {found.owner})",
        cards,
        f"{len(cards)} papers collected by {found.owner}",
        alternate=f"/collections/{found.id}",
    )


# -- API -------------------------------------------------------------------------------------
def collection_json(collection: Collection, items=None) -> dict:
    out = {
        "id": collection.id,
        "name": collection.name,
        "public": collection.is_public,
        "owner": collection.owner,
        "numPapers": collection.size,
        "createdAt": collection.created_at,
        "updatedAt": collection.modified_at,
        "url": f"/collections/{collection.id}",
    }
    if items is not None:
        out["papers"] = [hf_item(card) | {"note": note} for card, note in items]
    return out


def _reader(request: Request) -> User | None:
    web = web_of(request)
    return auth.bearer_user(web.store, request) or auth.session_user(web.store, request)


@api_router.get("", summary="Your collections")
def api_list(request: Request):
    user = _reader(request)
    if user is None:
        raise HTTPException(401, "sign in, or send 'Authorization: Bearer <API token>'")
    return JSONResponse([collection_json(c) for c in _shelf(request).of_user(user.id)])


@api_router.post("", status_code=201, summary="Make a collection")
def api_create(request: Request, body: dict = _JSON):
    user = api_writer(request)
    name, public = body.get("name"), body.get("public", False)
    if not isinstance(name, str) or not isinstance(public, bool):
        raise HTTPException(400, 'send {"name": "...", "public": true|false}')
    made = _create(request, user, name, public)
    return JSONResponse(
        collection_json(made), status_code=201, headers={"Location": f"/api/collections/{made.id}"}
    )


@api_router.get("/{collection_id}", summary="One collection with its papers and notes")
def api_get(request: Request, collection_id: int):
    found = visible(_shelf(request).get(collection_id), _reader(request))
    return JSONResponse(collection_json(found, _papers(request, found)))


@api_router.patch("/{collection_id}", summary="Rename a collection or change who sees it")
def api_edit(request: Request, collection_id: int, body: dict = _JSON):
    user = api_writer(request)
    name, public = body.get("name"), body.get("public")
    if (name is not None and not isinstance(name, str)) or (
        public is not None and not isinstance(public, bool)
    ):
        raise HTTPException(400, 'send {"name": "...", "public": true|false} (either or both)')
    try:
        done = _shelf(request).update(
            collection_id, user.id, None if name is None else _clean_name(name), public
        )
    except CollectionNameTaken as exc:
        raise HTTPException(409, str(exc)) from None
    if done is None:
        raise HTTPException(404, "there is no such collection, or it is private")
    return JSONResponse(collection_json(done))


@api_router.delete("/{collection_id}", summary="Delete a collection")
def api_delete(request: Request, collection_id: int):
    if not _shelf(request).delete(collection_id, api_writer(request).id):
        raise HTTPException(404, "there is no such collection, or it is private")
    return JSONResponse({"id": collection_id, "deleted": True})


@api_router.put("/{collection_id}/papers/{paper_id:path}", summary="Save a paper (with a note)")
def api_save(request: Request, collection_id: int, paper_id: str, body: dict | None = _MAYBE_JSON):
    note = (body or {}).get("note", "")
    if not isinstance(note, str):
        raise HTTPException(400, 'send {"note": "..."} or no body')
    pid = _add(request, api_writer(request), collection_id, paper_id, note)
    return JSONResponse({"collection": collection_id, "id": pid, "note": _clean_note(note)})


@api_router.delete("/{collection_id}/papers/{paper_id:path}", summary="Take a paper out")
def api_remove(request: Request, collection_id: int, paper_id: str):
    if not _shelf(request).remove(collection_id, api_writer(request).id, _paper_id(paper_id)):
        raise HTTPException(404, "that paper is not in a collection of yours")
    return JSONResponse({"collection": collection_id, "id": _paper_id(paper_id), "removed": True})
