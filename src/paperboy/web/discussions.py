"""Discussions on the paper pages: comments and one level of replies, in Markdown.

    POST /papers/{arxiv_id}/comments          comment (or reply: parent_id), signed in
    GET  /comments/{comment_id}/edit, POST the same    the author edits (marked "edited")
    POST /comments/{comment_id}/delete                 the author deletes (replies keep their place)
    POST /comments/{comment_id}/hide                   an admin hides or shows it again (hidden=0)
    POST /comments/{comment_id}/report                 a signed-in user reports it to the admins
    GET  /comments/reported                   the admins' queue of reported comments
    GET  /feeds/discussion/{arxiv_id}.atom    the paper's discussion as an Atom feed
    GET  /api/papers/{arxiv_id}/comments      the discussion as JSON (no sign-in)
    POST /api/papers/{arxiv_id}/comments      {"body": "...", "parentId": n} with an API token

The discussion itself is drawn on the paper page (`page_context`, templates/_discussion.html).
Every form carries the CSRF token; writes are rate limited per user (web/limits.py); Markdown
becomes HTML only through web/markup.py (markdown-it-py, then the nh3 sanitizer). A reply
queues mail to the thread's other commenters who turned reply mail on (web/reply_mail.py); it is
sent by a background task after the response, never while the request waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree as ET

from fastapi import APIRouter, BackgroundTasks, Body, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from paperboy.papers import Paper, try_parse_arxiv_id
from paperboy.store.discussions import MAX_BODY_CHARS, Comment, CommentRefused, Discussions
from paperboy.web import auth, limits, reply_mail
from paperboy.web.api import api_writer
from paperboy.web.deps import web_of
from paperboy.web.markup import comment_html, comment_text
from paperboy.web.openapi import answers, json_body

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["discussions"])
JSON_BODY = Body(...)  # checked by hand below, so a bad body gets our 400 and its reason


@dataclass
class Thread:
    """A top-level comment and its replies, as the page shows them."""

    comment: Comment
    replies: list[Comment] = field(default_factory=list)


def threads(comments: list[Comment]) -> list[Thread]:
    """Comments (oldest first) grouped under their top-level comment."""
    tops: dict[int, Thread] = {}
    for c in comments:
        if c.parent_id is None:
            tops[c.id] = Thread(c)
        elif c.parent_id in tops:
            tops[c.parent_id].replies.append(c)
    return list(tops.values())


def _worth_showing(thread: Thread) -> bool:
    # A deleted comment without replies leaves nothing to read; with replies it stays as a
    # placeholder so the replies keep their context.
    return thread.comment.deleted_at is None or bool(thread.replies)


def page_context(web, request: Request, paper: Paper) -> dict:
    """What the paper page needs to draw its discussion."""
    comments = Discussions(web.store).thread(paper.id)
    shown = [t for t in threads(comments) if _worth_showing(t)]
    return {
        "threads": shown,
        "comment_count": sum(c.shown for c in comments),
        "comment_html": comment_html,
        "max_comment": MAX_BODY_CHARS,
    }


def _paper(web, paper_id: str) -> Paper:
    arxiv = try_parse_arxiv_id(paper_id)
    found = web.store.get(arxiv.id) if arxiv else None
    if found is None:
        raise HTTPException(404, f"no paper {paper_id!r} is stored here")
    return found


def _comment(web, comment_id: int) -> Comment:
    found = Discussions(web.store).get(comment_id)
    if found is None:
        raise HTTPException(404, f"there is no comment #{comment_id}")
    return found


def _signed_in(web, request: Request, csrf_token: str):
    auth.check_csrf(request, csrf_token)
    user = auth.session_user(web.store, request)
    if user is None:
        raise HTTPException(401, "sign in to take part in discussions")
    return user


def _back_to(comment: Comment) -> RedirectResponse:
    return RedirectResponse(f"/papers/{comment.paper_id}#c-{comment.id}", status_code=303)


def _parent(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HTTPException(400, f"parent {value!r} is not a comment number") from None
    if not 1 <= number <= 2**62:
        raise HTTPException(400, f"parent {value!r} is not a comment number")
    return number


@router.post("/papers/{paper_id:path}/comments")
def add_comment(
    request: Request,
    background: BackgroundTasks,
    paper_id: str,
    body: str = Form(""),
    parent_id: str = Form(""),
    csrf_token: str = Form(""),
):
    web = web_of(request)
    user = _signed_in(web, request, csrf_token)
    limits.check(web.store, limits.COMMENT, f"user:{user.id}")
    paper = _paper(web, paper_id)
    try:
        comment = Discussions(web.store).add(paper.id, user.id, body, _parent(parent_id))
    except CommentRefused as exc:
        raise HTTPException(400, str(exc)) from None
    if comment.parent_id is not None:
        reply_mail.drain_in_background(background, request)
    return _back_to(comment)


@router.get("/comments/reported")
def reported(request: Request):
    web = web_of(request)
    user = auth.session_user(web.store, request)
    if user is None or not user.is_admin:
        raise HTTPException(403, "only admins see reported comments")
    talk = Discussions(web.store)
    queue = [(c, talk.report_reasons(c.id)) for c in talk.reported()]
    return web.render(request, "reported.html", queue=queue, comment_html=comment_html)


@router.get("/comments/{comment_id}/edit")
def edit_form(request: Request, comment_id: int):
    web = web_of(request)
    comment = _comment(web, comment_id)
    user = auth.session_user(web.store, request)
    if user is None or user.id != comment.user_id or comment.deleted_at:
        raise HTTPException(403, "only its author can edit a comment")
    return web.render(
        request, "comment_edit.html", comment=comment, error=None, max_comment=MAX_BODY_CHARS
    )


@router.post("/comments/{comment_id}/edit")
def edit(request: Request, comment_id: int, body: str = Form(""), csrf_token: str = Form("")):
    web = web_of(request)
    user = _signed_in(web, request, csrf_token)
    limits.check(web.store, limits.COMMENT, f"user:{user.id}")
    comment = _comment(web, comment_id)
    try:
        changed = Discussions(web.store).edit(comment.id, user.id, body)
    except CommentRefused as exc:
        if comment.user_id != user.id:
            raise HTTPException(403, "only its author can edit a comment") from None
        return web.render(
            request,
            "comment_edit.html",
            status=400,
            comment=comment,
            error=str(exc),
            max_comment=MAX_BODY_CHARS,
        )
    return _back_to(changed)


@router.post("/comments/{comment_id}/delete")
def delete(request: Request, comment_id: int, csrf_token: str = Form("")):
    web = web_of(request)
    user = _signed_in(web, request, csrf_token)
    comment = _comment(web, comment_id)
    if comment.user_id != user.id:
        raise HTTPException(403, "only its author can delete a comment")
    Discussions(web.store).delete(comment.id, user.id)
    return _back_to(comment)


@router.post("/comments/{comment_id}/hide")
def hide(request: Request, comment_id: int, hidden: str = Form("1"), csrf_token: str = Form("")):
    web = web_of(request)
    user = _signed_in(web, request, csrf_token)
    if not user.is_admin:
        raise HTTPException(403, "only admins can hide comments")
    comment = _comment(web, comment_id)
    Discussions(web.store).set_hidden(comment.id, user.id, hidden == "1")
    return _back_to(comment)


@router.post("/comments/{comment_id}/report")
def report(request: Request, comment_id: int, reason: str = Form(""), csrf_token: str = Form("")):
    web = web_of(request)
    user = _signed_in(web, request, csrf_token)
    limits.check(web.store, limits.REPORT, f"user:{user.id}")
    comment = _comment(web, comment_id)
    first = Discussions(web.store).report(comment.id, user.id, reason)
    note = (
        "Thank you: the admins will look at it."
        if first
        else "You had reported this comment already."
    )
    return web.render(request, "reported_thanks.html", comment=comment, note=note)


# -- Atom --------------------------------------------------------------------------------------
@router.get("/feeds/discussion/{paper_id:path}.atom")
def discussion_atom(request: Request, paper_id: str):
    """The paper's shown comments and replies, newest first."""
    from paperboy.web.rss import ATOM, _atom, _text  # rss builds on pages; imported late

    web = web_of(request)
    paper = _paper(web, paper_id)
    base = str(request.base_url).rstrip("/")
    comments = [c for c in Discussions(web.store).thread(paper.id) if c.shown][::-1][:200]
    root = ET.Element("feed", {"xmlns": ATOM})
    _text(root, "title", f"Discussion of {comment_text(paper.title)[:200]}")
    _text(root, "id", str(request.url))
    ET.SubElement(
        root, "link", {"rel": "self", "type": "application/atom+xml", "href": str(request.url)}
    )
    ET.SubElement(
        root,
        "link",
        {"rel": "alternate", "type": "text/html", "href": f"{base}/papers/{paper.id}#discussion"},
    )
    newest = comments[0].edited_at or comments[0].created_at if comments else None
    _text(root, "updated", _atom_time(newest))
    _text(ET.SubElement(root, "author"), "name", "paperboy")
    for c in comments:
        entry = ET.SubElement(root, "entry")
        _text(entry, "id", f"{base}/papers/{paper.id}#c-{c.id}")
        kind = "Reply" if c.parent_id else "Comment"
        _text(entry, "title", f"{kind} by {c.author}")
        _text(entry, "published", _atom_time(c.created_at))
        _text(entry, "updated", _atom_time(c.edited_at or c.created_at))
        _text(ET.SubElement(entry, "author"), "name", c.author)
        ET.SubElement(
            entry,
            "link",
            {"rel": "alternate", "type": "text/html", "href": f"{base}/papers/{paper.id}#c-{c.id}"},
        )
        _text(entry, "content", str(comment_html(c.body)), type="html")  # sanitized, escaped
    return _atom(root)


def _atom_time(stamp: str | None) -> str:
    if not stamp:
        return f"{date(1970, 1, 1).isoformat()}T00:00:00Z"
    return stamp.replace("+00:00", "Z")


# -- JSON API ----------------------------------------------------------------------------------
class CommentOut(BaseModel):
    id: int
    parentId: int | None = Field(description="the top-level comment this replies to")
    author: str
    authorIsPaperAuthor: bool = Field(description="a confirmed author of this paper")
    body: str = Field(description="Markdown as written; '' when deleted or hidden")
    html: str = Field(description="the body as sanitized HTML (math left for KaTeX)")
    createdAt: str
    editedAt: str | None
    status: str = Field(description="shown, deleted or hidden")
    replies: list[CommentOut] = Field(default_factory=list)


class CommentIn(BaseModel):
    body: str = Field(description=f"Markdown, 1 to {MAX_BODY_CHARS} characters")
    parentId: int | None = Field(None, description="reply to this comment")


def comment_json(c: Comment) -> dict:
    status = "deleted" if c.deleted_at else "hidden" if c.hidden_at else "shown"
    body = c.body if status == "shown" else ""
    return {
        "id": c.id,
        "parentId": c.parent_id,
        "author": c.author,
        "authorIsPaperAuthor": c.by_paper_author,
        "body": body,
        "html": str(comment_html(body)) if body else "",
        "createdAt": c.created_at,
        "editedAt": c.edited_at,
        "status": status,
    }


@api.get(
    "/papers/{paper_id:path}/comments",
    summary="A paper's discussion, threaded",
    responses=answers(200, list[CommentOut], errors=(404,)),
)
def api_comments(request: Request, paper_id: str):
    web = web_of(request)
    paper = _paper(web, paper_id)
    out = []
    for t in threads(Discussions(web.store).thread(paper.id)):
        if _worth_showing(t):
            out.append(comment_json(t.comment) | {"replies": [comment_json(r) for r in t.replies]})
    return JSONResponse(out)


@api.post(
    "/papers/{paper_id:path}/comments",
    status_code=201,
    summary="Comment on a paper, or reply (parentId)",
    responses=answers(201, CommentOut, errors=(400, 401, 403, 404, 429)),
    openapi_extra=json_body(CommentIn),
)
def api_add_comment(
    request: Request, background: BackgroundTasks, paper_id: str, body: dict = JSON_BODY
):
    web = web_of(request)
    user = api_writer(request)
    limits.check(web.store, limits.COMMENT, f"user:{user.id}")
    paper = _paper(web, paper_id)
    text = body.get("body") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise HTTPException(400, 'send {"body": "<Markdown>"} (and "parentId" for a reply)')
    parent = body.get("parentId")
    if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
        raise HTTPException(400, '"parentId" must be a comment number')
    try:
        comment = Discussions(web.store).add(paper.id, user.id, text, _parent(parent))
    except CommentRefused as exc:
        raise HTTPException(400, str(exc)) from None
    if comment.parent_id is not None:
        reply_mail.drain_in_background(background, request)
    return JSONResponse(comment_json(comment) | {"replies": []}, status_code=201)
