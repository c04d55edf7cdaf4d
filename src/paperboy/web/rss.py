"""Atom feeds (RFC 4287) for feed readers: the daily feed, trending, and any search query.

    /feeds/daily.atom      papers of the last DAILY_DAYS feed days, newest day first
    /feeds/trending.atom   the trending ranking (see paperboy.feeds)
    /feeds/search.atom?q=  the first results of a search

Entry ids are the papers' arXiv abstract URLs, so they stay the same across feeds, hosts and
restarts; `updated` is the day the paper entered the feed, `published` its arXiv submission.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree as ET

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from paperboy import bounds
from paperboy.links import allowed_url
from paperboy.papers import try_parse_arxiv_id
from paperboy.search import SORTS, Filters
from paperboy.web.app import web_of
from paperboy.web.pages import trending_cards
from paperboy.web.views import Card, blurb

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


def atom_feed(request: Request, title: str, cards: list[Card], subtitle: str) -> Response:
    """An Atom document for these cards; the feed id is its own absolute URL."""
    base = str(request.base_url).rstrip("/")
    self_url = str(request.url)
    root = ET.Element("feed", {"xmlns": ATOM})
    _text(root, "title", title)
    _text(root, "subtitle", subtitle)
    _text(root, "id", self_url)
    ET.SubElement(root, "link", {"rel": "self", "type": "application/atom+xml",
                                 "href": self_url})
    ET.SubElement(root, "link", {"rel": "alternate", "type": "text/html", "href": base + "/"})
    days = [c.day or c.paper.published for c in cards]
    _text(root, "updated", _time(max((d for d in days if d), default=None)))
    author = ET.SubElement(root, "author")
    _text(author, "name", "paperboy")
    _text(root, "generator", "paperboy", uri="https://github.com/paperboy")
    for card, day in zip(cards, days):
        _entry(root, base, card, day)
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                    media_type="application/atom+xml; charset=utf-8")


def _entry(root: ET.Element, base: str, card: Card, day: date | None) -> None:
    p = card.paper
    entry = ET.SubElement(root, "entry")
    _text(entry, "id", p.abs_url)
    _text(entry, "title", p.title)
    _text(entry, "updated", _time(day))
    if p.published:
        _text(entry, "published", _time(p.published))
    ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html",
                                  "href": f"{base}/papers/{p.id}"})
    ET.SubElement(entry, "link", {"rel": "related", "type": "application/pdf",
                                  "href": p.pdf_url, "title": "PDF"})
    for name in p.authors[:bounds.LIST_AUTHORS] or ["Unknown"]:
        author = ET.SubElement(entry, "author")
        _text(author, "name", name)
    for category in p.categories:
        ET.SubElement(entry, "category", {"term": category})
    extra = f"{card.votes} upvotes"
    if len(p.authors) > bounds.LIST_AUTHORS:
        extra += f" · {len(p.authors)} authors"
    code = allowed_url(p.code_url)
    if code:
        extra += f" · code: {code}"
    abstract = blurb(p.abstract, bounds.LIST_ABSTRACT_CHARS)
    _text(entry, "summary", f"{abstract}\n\n{extra}", type="text")


@router.get("/daily.atom")
def daily(request: Request):
    web = web_of(request)
    newest = web.store.latest_day()
    cards: list[Card] = []
    if newest is not None:
        first = newest - timedelta(days=DAILY_DAYS - 1)
        cards = web.cards(request, web.store.ranked_between(first, newest, MAX_ENTRIES,
                                                            newest_first=True))
    return atom_feed(request, "paperboy · daily papers", cards,
                     f"Papers of the last {DAILY_DAYS} feed days, most upvoted first each day")


@router.get("/trending.atom")
def trending(request: Request):
    web = web_of(request)
    return atom_feed(request, "paperboy · trending papers", trending_cards(web, request),
                     "Upvotes halving every 3 days (see the trending page)")


@router.get("/search.atom")
def search(request: Request, q: str = Query(..., min_length=1, max_length=500),
           sort: str = "relevance", limit: int = Query(30, ge=1, le=MAX_ENTRIES)):
    web = web_of(request)
    if sort not in SORTS:
        raise HTTPException(400, f"sort {sort!r} is not one of {', '.join(SORTS)}")
    arxiv = try_parse_arxiv_id(q)
    result = web.search.search(arxiv.id if arxiv else q, Filters(), sort=sort, limit=limit)
    # A feed of a saved search lists papers that match it, like a topic alert: papers that are
    # only near in meaning (semantic-only hits) rank the search page but are left out here.
    cards = web.cards_for(request, [h.paper for h in result.hits if h.why != "semantic"])
    return atom_feed(request, f"paperboy · search: {q}", cards,
                     result.message or f"{result.total} papers match {q!r}")
