"""The daily arXiv announcement feed (rss.arxiv.org/atom/<category>): what arXiv announced today.

    with PoliteClient(settings) as client:
        feed = fetch_announcements(client, settings, "cs.AI")
    for item in feed.items:  # Announcement(kind, paper), or Rejected
        ...

Each entry says how the paper came to be in today's listing (`arxiv:announce_type`):
- `new`: first announced today, in this category;
- `cross`: first announced today, listed here as a cross-list from another category;
- `replace`, `replace-cross`: a new version of a paper announced before.
New and cross-list papers enter the daily feed (source "arxiv") on the announcement day; a
replacement updates the stored paper's text and version but does not enter the feed again.
The feed covers one announcement day only: days missed are backfilled with OAI-PMH.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date

from paperboy import bounds
from paperboy.config import Settings
from paperboy.papers import FeedEntry, Paper, clean_text
from paperboy.sources import (
    ReadItems,
    RecordError,
    Rejected,
    SourceError,
    checked,
    checked_links,
    record_id,
)
from paperboy.sources.http import PoliteClient
from paperboy.sources.schema import (
    Abstract,
    AuthorsText,
    Category,
    Day,
    IdText,
    License,
    Record,
    Title,
    list_of,
    text,
    validate,
)

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"

ENTERS_FEED = ("new", "cross")
KINDS = ENTERS_FEED + ("replace", "replace-cross")

_SUMMARY = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<kind>[\w-]+)\s*(?:Abstract:\s*)?(?P<abstract>.*)$",
    re.S,
)
# dc:creator keeps TeX accents (Andr\'e); these are the ones arXiv names use.
_TEX_ACCENT = re.compile(r"\\([`'^\"~=.])\{?([A-Za-z])\}?")
_COMBINING = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    '"': "\u0308",
}


@dataclass
class Announcement:
    kind: str  # one of KINDS
    paper: Paper

    @property
    def enters_feed(self) -> bool:
        return self.kind in ENTERS_FEED


@dataclass
class AnnouncementFeed(ReadItems):
    url: str
    day: date | None  # the announcement day; None for an empty feed (weekends, holidays)
    items: list[Announcement | Rejected] = field(default_factory=list)

    @property
    def announcements(self) -> list[Announcement]:
        return [item for item in self.items if isinstance(item, Announcement)]


def _untex(name: str) -> str:
    text = _TEX_ACCENT.sub(lambda m: m[2] + _COMBINING[m[1]], name)
    return unicodedata.normalize("NFC", text)


def _authors(creator: str | None) -> list[str]:
    text = clean_text(creator)
    if not text:
        return []
    names = re.split(r",\s*|\s+and\s+", text)
    return [_untex(n) for n in names if n.strip()]


def _day(text: str | None) -> date | None:
    # "2025-08-20T00:00:00-04:00": the date part is the announcement day in arXiv's time zone.
    try:
        day = date.fromisoformat(text.strip()[:10]) if text and text.strip() else None
    except ValueError:
        return None
    # One entry dated 9999 must not make that the feed's day (and the sync's watermark).
    return day if day and not bounds.day_problem(day) else None


class RssEntry(Record):
    """The schema: the fields of one feed `<entry>` that paperboy reads (all text in XML, so
    what can be wrong is size, encoding and the dates)."""

    id: IdText
    kind: text(40)
    title: Title
    abstract: Abstract
    creator: AuthorsText
    categories: list_of(Category, bounds.CATEGORIES)
    published: Day | None
    rights: License


def _fields(entry: ET.Element) -> dict:
    summary = entry.findtext(f"{ATOM}summary") or ""
    m = _SUMMARY.match(summary)
    return {
        "id": (entry.findtext(f"{ATOM}id") or "").strip().removeprefix("oai:arXiv.org:"),
        "kind": (entry.findtext(f"{ARXIV}announce_type") or (m["kind"] if m else "")).strip(),
        "title": clean_text(entry.findtext(f"{ATOM}title")),
        "abstract": clean_text(m["abstract"] if m else summary),
        "creator": entry.findtext(f"{DC}creator") or "",
        "categories": [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term")],
        "published": entry.findtext(f"{ATOM}published") or "",
        "rights": clean_text(entry.findtext(f"{DC}rights")),
    }


def announcement_from_entry(entry: ET.Element, day: date | None) -> Announcement:
    """One feed `<entry>`; `RecordError` when it lacks what a paper needs or is unusable."""
    rec = validate(RssEntry, _fields(entry))
    ident = record_id(rec.id)
    kind = rec.kind
    if kind not in KINDS:
        raise RecordError(f"{ident.id}: unknown announce type {kind!r}; expected one of {KINDS}")
    if not rec.title:
        raise RecordError(f"{ident.id}: missing required field 'title'")
    if not rec.abstract:
        raise RecordError(f"{ident.id}: missing the abstract")
    day = rec.published or day
    enters = kind in ENTERS_FEED and day is not None
    paper = Paper(
        id=ident.id,
        version=ident.version,
        title=rec.title,
        abstract=rec.abstract,
        authors=_authors(rec.creator),
        categories=rec.categories,
        # The feed lists the paper's primary category first.
        primary_category=rec.categories[0] if rec.categories else None,
        # Replacements were announced before: this day is neither their first announcement
        # nor a day they enter the feed.
        announced=day if enters else None,
        license=rec.rights or None,
        entry=FeedEntry(day=day, source="arxiv") if enters else None,
    ).with_code_link()
    return Announcement(kind, checked(paper, prefix=f"{ident.id}: "))


def parse_feed(root: ET.Element, url: str) -> AnnouncementFeed:
    if root.tag != f"{ATOM}feed":
        raise SourceError(
            f"{url}: expected an Atom <feed> from the arXiv announcement feed, got <{root.tag}>"
        )
    entries = root.findall(f"{ATOM}entry")
    days = [d for e in entries if (d := _day(e.findtext(f"{ATOM}published")))]
    feed = AnnouncementFeed(url, max(days) if days else None)
    for number, entry in enumerate(entries, start=1):
        try:
            item = announcement_from_entry(entry, feed.day)
            item.paper = checked_links(item.paper, f"{url}#entry{number}")
            feed.items.append(item)
        except RecordError as exc:
            feed.items.append(Rejected(f"{url}#entry{number}", str(exc)))
    return feed


def feed_url(settings: Settings, category: str) -> str:
    return f"{settings.arxiv_rss_url.rstrip('/')}/{category}"


def fetch_announcements(
    client: PoliteClient, settings: Settings, category: str
) -> AnnouncementFeed:
    """Today's announcements in `category` (e.g. cs.AI; `cs.AI+cs.CL` asks for several)."""
    url = feed_url(settings, category)
    return parse_feed(client.get_xml(url), url)
