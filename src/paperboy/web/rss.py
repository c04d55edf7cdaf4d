"""Atom feeds (RFC 4287) for feed readers: the daily feed, weekly, monthly, trending, and any
search query.

    /feeds/daily.atom      papers of the last DAILY_DAYS feed days, newest day first
    /feeds/weekly.atom     the newest week with papers, most upvoted first
    /feeds/monthly.atom    the newest month with papers, most upvoted first
    /feeds/trending.atom   the trending ranking (see paperboy.feeds)
    /feeds/search.atom?q=  the first results of a search (the search page's filters too)

Entry ids are the papers' arXiv abstract URLs, so they stay the same across feeds, hosts and
restarts; `updated` is the day the paper entered the feed, `published` its arXiv submission.
Titles and summaries are plain text, their LaTeX shown as text (paperboy.latex). A feed
address a reader cannot use (no query, a bad sort) is answered by `atom_error`: a 400 whose
body is still an Atom document saying what is wrong, never an HTML page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from paperboy import bounds, feeds, latex
from paperboy.links import allowed_url
from paperboy.papers import try_parse_arxiv_id
from paperboy.search import SORTS
from paperboy.web.deps import web_of
from paperboy.web.pages import period_url, search_filters, trending_cards
from paperboy.web.views import Card, blurb, plural

router = APIRouter(prefix="/feeds", include_in_schema=False)

ATOM = "http://www.w3.org/2005/Atom"
DAILY_DAYS = 3
MAX_ENTRIES = bounds.ATOM_ENTRIES
# Characters XML 1.0 cannot hold at all, not even escaped (NUL and most C0 controls, lone
# surrogates, U+FFFE/U+FFFF): a query or an imported abstract with one would break the feed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _time(day: date | None) -> str:
    return f"{(day or date(1970, 1, 1)).isoformat()}T00:00:00Z"


def _text(parent: ET.Element, tag: str, text: str, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = _NOT_XML.sub("", text)
    return el


def atom_feed(
    request: Request, title: str, cards: list[Card], subtitle: str, alternate: str = "/"
) -> Response:
    """An Atom document for these cards; the feed id is its own absolute URL, and `alternate`
    the page (a path) that shows the same papers."""
    base = str(request.base_url).rstrip("/")
    days = [c.day or c.paper.published for c in cards]
    root = _feed_head(
        request, title, subtitle, alternate, max((d for d in days if d), default=None)
    )
    for card, day in zip(cards, days):
        _entry(root, base, card, day)
    return _atom(root)


def atom_error(
    request: Request, status: int, message: str, headers: dict | None = None
) -> Response:
    """A feed address that cannot be answered: still Atom (a reader shows its title and its
    one entry), with the status and the message saying what to fix."""
    root = _feed_head(
        request, "paperboy · this feed address does not work", message, "/", date.today()
    )
    entry = ET.SubElement(root, "entry")
    _text(entry, "id", f"{request.url}#error-{status}")
    _text(entry, "title", f"This feed address does not work: {message}")
    _text(entry, "updated", _time(date.today()))
    _text(
        entry,
        "summary",
        f"The server answered {status}: {message}. Search on the site and "
        "copy the search page's Atom link.",
        type="text",
    )
    return _atom(root, status, headers)


def _feed_head(
    request: Request, title: str, subtitle: str, alternate: str, updated: date | None
) -> ET.Element:
    self_url = str(request.url)
    root = ET.Element("feed", {"xmlns": ATOM})
    _text(root, "title", title)
    _text(root, "subtitle", subtitle)
    _text(root, "id", self_url)
    ET.SubElement(root, "link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(
        root,
        "link",
        {
            "rel": "alternate",
            "type": "text/html",
            "href": str(request.base_url).rstrip("/") + alternate,
        },
    )
    _text(root, "updated", _time(updated))
    author = ET.SubElement(root, "author")
    _text(author, "name", "paperboy")
    _text(root, "generator", "paperboy", uri="https://github.com/paperboy")
    return root


def _atom(root: ET.Element, status: int = 200, headers: dict | None = None) -> Response:
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return Response(
        '<?xml version="1.0" encoding="utf-8"?>\n' + body,
        status_code=status,
        headers=headers,
        media_type="application/atom+xml; charset=utf-8",
    )


def _entry(root: ET.Element, base: str, card: Card, day: date | None) -> None:
    p = card.paper
    entry = ET.SubElement(root, "entry")
    _text(entry, "id", p.abs_url)
    _text(entry, "title", latex.to_text(p.title))
    _text(entry, "updated", _time(day))
    if p.published:
        _text(entry, "published", _time(p.published))
    ET.SubElement(
        entry, "link", {"rel": "alternate", "type": "text/html", "href": f"{base}/papers/{p.id}"}
    )
    ET.SubElement(
        entry,
        "link",
        {"rel": "related", "type": "application/pdf", "href": p.pdf_url, "title": "PDF"},
    )
    for name in p.authors[: bounds.LIST_AUTHORS] or ["Unknown"]:
        author = ET.SubElement(entry, "author")
        _text(author, "name", name)
    for category in p.categories:
        ET.SubElement(entry, "category", {"term": category})
    extra = plural(card.votes, "upvote")
    if len(p.authors) > bounds.LIST_AUTHORS:
        extra += f" · {len(p.authors)} authors"
    code = allowed_url(p.code_url)
    if code:
        extra += f" · code: {code}"
    abstract = latex.to_text(blurb(p.abstract, bounds.LIST_ABSTRACT_CHARS))
    _text(entry, "summary", f"{abstract}\n\n{extra}", type="text")


@router.get("/daily.atom")
def daily(request: Request):
    web = web_of(request)
    newest = web.store.latest_day()
    cards: list[Card] = []
    if newest is not None:
        first = newest - timedelta(days=DAILY_DAYS - 1)
        cards = web.cards(
            request, web.store.ranked_between(first, newest, MAX_ENTRIES, newest_first=True)
        )
    return atom_feed(
        request,
        "paperboy · daily papers",
        cards,
        f"Papers of the last {DAILY_DAYS} feed days, most upvoted first each day",
    )


@router.get("/weekly.atom")
def weekly(request: Request):
    return _period_feed(request, "week", "weekly")


@router.get("/monthly.atom")
def monthly(request: Request):
    return _period_feed(request, "month", "monthly")


def _period_feed(request: Request, kind: str, name: str) -> Response:
    """The newest week (month) with papers, most upvoted first, like its page."""
    web = web_of(request)
    newest = web.store.latest_day()
    if newest is None:
        return atom_feed(request, f"paperboy · {name} papers", [], "No papers yet")
    period = feeds.period_of(kind, newest)
    cards = web.cards(request, web.store.ranked_between(period.first, period.last, MAX_ENTRIES))
    return atom_feed(
        request,
        f"paperboy · {name} papers · {period.label}",
        cards,
        f"The most upvoted papers of {period.label}, the newest {kind} with papers",
        alternate=period_url(period),
    )


@router.get("/trending.atom")
def trending(request: Request):
    web = web_of(request)
    return atom_feed(
        request,
        "paperboy · trending papers",
        trending_cards(web, request),
        "Upvotes halving every 3 days (see the trending page)",
        alternate="/papers/trending",
    )


@router.get("/search.atom")
def search(
    request: Request,
    q: str = Query("", max_length=bounds.QUERY_CHARS),
    sort: str = "relevance",
    category: str = Query("", max_length=500),
    date_from: str = "",
    date_to: str = "",
    has_code: str = "",
    limit: int = Query(30, ge=1, le=MAX_ENTRIES),
):
    web = web_of(request)
    q = q.strip()
    if not q:
        raise HTTPException(
            400, "the q parameter is empty: give the search, e.g. /feeds/search.atom?q=diffusion"
        )
    if sort not in SORTS:
        raise HTTPException(400, f"sort {sort!r} is not one of {', '.join(SORTS)}")
    arxiv = try_parse_arxiv_id(q)
    filters = search_filters(category, date_from, date_to, has_code)
    result = web.search.search(arxiv.id if arxiv else q, filters, sort=sort, limit=limit)
    # A feed of a saved search lists papers that match it, like a topic alert: papers that are
    # only near in meaning (semantic-only hits) rank the search page but are left out here.
    cards = web.cards_for(request, [h.paper for h in result.hits if h.matched])
    page = urlencode({k: v for k, v in request.query_params.items() if k != "limit" and v})
    return atom_feed(
        request,
        f"paperboy · search: {q}",
        cards,
        result.message or f"{result.total} papers match {q!r}",
        alternate=f"/search?{page}",
    )
