"""The arXiv API (export.arxiv.org/api/query, Atom): look papers up by id, or search with paging.

    papers = fetch_papers(["2405.15738", "https://arxiv.org/abs/hep-th/9901001v2"], settings)

    with PoliteClient(settings) as client:
        for page in search_pages(client, settings, category="cs.CL", max_results=300):
            ...  # page.items: Paper, or Rejected for an entry we could not read

Look-ups go out in batches of `arxiv_api_page_size` ids. The API answers a bad request with a
feed holding one "Error" entry (often with HTTP 400); that becomes a `SourceError` naming the URL.
API papers carry no feed entry: being looked up does not put a paper in the daily feed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from paperboy import bounds
from paperboy.config import Settings
from paperboy.papers import Paper, clean_text, parse_arxiv_id
from paperboy.sources import (
    ReadItems,
    RecordError,
    Rejected,
    SourceError,
    checked,
    checked_links,
    record_id,
)
from paperboy.sources.http import PoliteClient, full_url
from paperboy.sources.schema import (
    Abstract,
    AuthorName,
    Category,
    Comment,
    Day,
    Doi,
    IdText,
    JournalRef,
    Record,
    Title,
    list_of,
    validate,
)

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


@dataclass
class Page(ReadItems):
    """One API response: where it came from, the total the API reports, and its entries."""

    url: str
    total: int
    start: int
    items: list[Paper | Rejected] = field(default_factory=list)


# -- parsing ---------------------------------------------------------------------------------
class ApiEntry(Record):
    """The schema: the fields of one Atom `<entry>` that paperboy reads (all text in XML, so
    what can be wrong is size, encoding and the dates)."""

    id: IdText
    title: Title
    summary: Abstract
    authors: list_of(AuthorName, bounds.AUTHORS)
    categories: list_of(Category, bounds.CATEGORIES)
    primary: Category
    published: Day | None
    updated: Day | None
    comment: Comment
    journal_ref: JournalRef
    doi: Doi


def _fields(entry: ET.Element) -> dict:
    primary_el = entry.find(f"{ARXIV}primary_category")
    return {
        "id": (entry.findtext(f"{ATOM}id") or "").strip(),
        "title": clean_text(entry.findtext(f"{ATOM}title")),
        "summary": clean_text(entry.findtext(f"{ATOM}summary")),
        "authors": [
            name
            for a in entry.findall(f"{ATOM}author")
            if (name := clean_text(a.findtext(f"{ATOM}name")))
        ],
        "categories": [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term")],
        "primary": (primary_el.get("term") or "") if primary_el is not None else "",
        "published": entry.findtext(f"{ATOM}published") or "",
        "updated": entry.findtext(f"{ATOM}updated") or "",
        "comment": clean_text(entry.findtext(f"{ARXIV}comment")),
        "journal_ref": clean_text(entry.findtext(f"{ARXIV}journal_ref")),
        "doi": clean_text(entry.findtext(f"{ARXIV}doi")),
    }


def paper_from_entry(entry: ET.Element) -> Paper:
    """One Atom `<entry>` as a `Paper`; `RecordError` when a field is missing or unusable."""
    rec = validate(ApiEntry, _fields(entry))
    arxiv = record_id(rec.id)
    if not rec.title:
        raise RecordError(f"{arxiv.id}: missing required field 'title'")
    if not rec.summary:
        raise RecordError(f"{arxiv.id}: missing required field 'summary'")
    categories = list(rec.categories)
    primary = rec.primary or (categories[0] if categories else None)
    if primary:
        # The store keeps the primary category first.
        categories = [primary] + [c for c in categories if c != primary]
    return checked(
        Paper(
            id=arxiv.id,
            version=arxiv.version,
            title=rec.title,
            abstract=rec.summary,
            authors=rec.authors,
            categories=categories,
            primary_category=primary,
            published=rec.published,
            updated=rec.updated,
            comment=rec.comment or None,
            journal_ref=rec.journal_ref or None,
            doi=rec.doi or None,
        ).with_code_link(),
        prefix=f"{arxiv.id}: ",
    )


def _is_error_entry(entry: ET.Element) -> bool:
    return "/api/errors" in (entry.findtext(f"{ATOM}id") or "")


def parse_feed(root: ET.Element, url: str) -> Page:
    """An API response as a `Page`; the API's error entry and non-feeds raise `SourceError`."""
    if root.tag != f"{ATOM}feed":
        raise SourceError(f"{url}: expected an Atom <feed> from the arXiv API, got <{root.tag}>")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        if _is_error_entry(entry):
            reason = clean_text(entry.findtext(f"{ATOM}summary")) or "unspecified error"
            raise SourceError(f"{url}: the arXiv API refused the request: {reason}")
    try:
        total = int((root.findtext(f"{OPENSEARCH}totalResults") or "0").strip())
        start = int((root.findtext(f"{OPENSEARCH}startIndex") or "0").strip())
    except ValueError:
        raise SourceError(
            f"{url}: the arXiv API sent a feed without a usable result count"
        ) from None
    page = Page(url, total, start)
    for number, entry in enumerate(entries, start=start + 1):
        try:
            page.items.append(checked_links(paper_from_entry(entry), f"{url}#entry{number}"))
        except RecordError as exc:
            page.items.append(Rejected(f"{url}#entry{number}", str(exc)))
    return page


def _request(client: PoliteClient, settings: Settings, params: dict) -> Page:
    root = client.get_xml(settings.arxiv_api_url, params, accept=(400,))
    return parse_feed(root, full_url(settings.arxiv_api_url, params))


# -- look-ups by id --------------------------------------------------------------------------
def unique_ids(ids: Iterable[str]) -> list[str]:
    """Canonical ids without version, duplicates dropped, in the order given.

    Raises `InvalidArxivId` naming the first text that is no arXiv id. The version is dropped
    on purpose: the API then answers with the latest version, which is what we want to store.
    """
    seen: dict[str, None] = {}
    for text in ids:
        seen.setdefault(parse_arxiv_id(text).id, None)
    return list(seen)


def lookup_pages(client: PoliteClient, settings: Settings, ids: list[str]) -> Iterator[Page]:
    """One page per batch of canonical ids (see `unique_ids`)."""
    size = max(1, settings.arxiv_api_page_size)
    for first in range(0, len(ids), size):
        batch = ids[first : first + size]
        yield _request(
            client,
            settings,
            {
                "id_list": ",".join(batch),
                "start": 0,
                "max_results": len(batch),
            },
        )


def fetch_papers(
    ids: list[str], settings: Settings, client: PoliteClient | None = None
) -> list[Paper]:
    """The papers for `ids` (any form a user pastes), in the order asked; unknown ids are left out.

    Raises `InvalidArxivId` for text that is no arXiv id (before any request) and
    `SourceError` when arXiv cannot be reached or refuses the request.
    """
    wanted = unique_ids(ids)
    if not wanted:
        return []
    found: dict[str, Paper] = {}
    owned = client is None
    client = client or PoliteClient(settings)
    try:
        for page in lookup_pages(client, settings, wanted):
            found.update((p.id, p) for p in page.papers)
    finally:
        if owned:
            client.close()
    return [found[i] for i in wanted if i in found]


# -- searches --------------------------------------------------------------------------------
def search_query(query: str | None = None, category: str | None = None) -> str:
    """The API's `search_query` for free text (API syntax allowed) and/or a category."""
    parts = [f"({query})" if query and category else query, f"cat:{category}" if category else None]
    text = " AND ".join(p for p in parts if p)
    if not text:
        raise ValueError("give a search query, a category, or both")
    return text


def search_pages(
    client: PoliteClient,
    settings: Settings,
    query: str | None = None,
    category: str | None = None,
    start: int = 0,
    max_results: int | None = None,
    sort_by: str = "submittedDate",
    sort_order: str = "descending",
) -> Iterator[Page]:
    """Pages of a search, `arxiv_api_page_size` entries each, until `max_results` or the end."""
    params = {
        "search_query": search_query(query, category),
        "sortBy": sort_by,
        "sortOrder": sort_order,
    }
    size = max(1, settings.arxiv_api_page_size)
    position, fetched, empty_retried = start, 0, False
    while max_results is None or fetched < max_results:
        want = size if max_results is None else min(size, max_results - fetched)
        page = _request(client, settings, {**params, "start": position, "max_results": want})
        if not page.items:
            # The API is known to return an empty page now and then in the middle of a result
            # set; asking once more usually gets it.
            if position < page.total and not empty_retried:
                empty_retried = True
                continue
            return
        empty_retried = False
        yield page
        position += len(page.items)
        fetched += len(page.items)
        if position >= page.total:
            return
