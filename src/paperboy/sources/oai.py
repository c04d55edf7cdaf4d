"""arXiv OAI-PMH (`ListRecords`, metadataPrefix=arXiv): the pages of a bulk backfill.

    with PoliteClient(settings) as client:
        for page in list_records(client, settings, set_spec="cs", from_=date(2026, 8, 1)):
            ...  # page.items: Paper or Rejected; page.token resumes after this page

A harvest is a chain of pages linked by resumption tokens. Saving `page.token` with the page's
papers (`paperboy.sync.harvest` does, in one transaction) lets an interrupted harvest go on
from the next page. OAI-PMH errors: `noRecordsMatch` is an empty harvest, `badResumptionToken`
raises `BadResumptionToken`, any other raises `SourceError`. Backfilled papers get no feed
entry: a backfill must not flood the daily feed with old papers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from pydantic import Field

from paperboy import bounds
from paperboy.config import Settings
from paperboy.papers import Paper, clean_text
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
    CategoriesText,
    Comment,
    Day,
    Doi,
    IdText,
    JournalRef,
    License,
    Record,
    Title,
    list_of,
    validate,
)

OAI = "{http://www.openarchives.org/OAI/2.0/}"


class BadResumptionToken(SourceError):
    """The server no longer knows the token we resume from (tokens expire)."""


@dataclass
class RecordsPage(ReadItems):
    """One ListRecords response."""

    url: str
    items: list[Paper | Rejected] = field(default_factory=list)
    token: str | None = None  # resumes after this page; None: this was the last page
    cursor: int | None = None  # records before this page, as the server counts them
    complete_size: int | None = None  # records in the whole harvest, when the server says
    deleted: int = 0  # records the server marks deleted (no metadata; skipped)


# -- parsing ---------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(elem: ET.Element, name: str) -> ET.Element | None:
    """The first child called `name`, whatever its namespace.

    Metadata blocks do not all declare the arXiv namespace (some inherit the OAI one), so
    matching local names reads both.
    """
    for child in elem:
        if _local(child.tag) == name:
            return child
    return None


def _text(elem: ET.Element, name: str) -> str:
    child = _child(elem, name)
    return clean_text("".join(child.itertext())) if child is not None else ""


def _author(elem: ET.Element) -> str:
    parts = (_text(elem, "forenames"), _text(elem, "keyname"), _text(elem, "suffix"))
    return " ".join(p for p in parts if p)


class OaiRecord(Record):
    """The schema: the fields of one record's arXiv-format metadata that paperboy reads.

    XML holds only text, so what can be wrong is size, encoding and the dates."""

    id: IdText
    title: Title
    abstract: Abstract
    authors: list_of(AuthorName, bounds.AUTHORS)
    categories: CategoriesText
    created: Day | None
    updated: Day | None
    comments: Comment
    journal_ref: JournalRef = Field(alias="journal-ref")
    doi: Doi
    license: License


def _fields(arxiv: ET.Element, identifier: str) -> dict:
    authors_el = _child(arxiv, "authors")
    authors = (
        []
        if authors_el is None
        else [name for a in authors_el if _local(a.tag) == "author" and (name := _author(a))]
    )
    found = {
        name: _text(arxiv, name)
        for name in (
            "title",
            "abstract",
            "categories",
            "created",
            "updated",
            "comments",
            "journal-ref",
            "doi",
            "license",
        )
    }
    return found | {
        "id": _text(arxiv, "id") or identifier.removeprefix("oai:arXiv.org:"),
        "authors": authors,
    }


def paper_from_record(record: ET.Element) -> Paper:
    """One `<record>` with arXiv-format metadata as a `Paper`; `RecordError` when unusable."""
    header = _child(record, "header")
    identifier = _text(header, "identifier") if header is not None else ""
    metadata = _child(record, "metadata")
    arxiv = metadata[0] if metadata is not None and len(metadata) else None
    if arxiv is None:
        raise RecordError(f"{identifier or 'record'}: no arXiv metadata")
    rec = validate(
        OaiRecord, _fields(arxiv, identifier), prefix=f"{identifier[:80]}: " if identifier else ""
    )
    ident = record_id(rec.id)
    if not rec.title:
        raise RecordError(f"{ident.id}: missing required field 'title'")
    if not rec.abstract:
        raise RecordError(f"{ident.id}: missing required field 'abstract'")
    categories = rec.categories.split()
    return checked(
        Paper(
            id=ident.id,
            version=ident.version,  # the arXiv format does not say; arXivRaw would
            title=rec.title,
            abstract=rec.abstract,
            authors=rec.authors,
            categories=categories,
            primary_category=categories[0] if categories else None,
            published=rec.created,
            updated=rec.updated,
            comment=rec.comments or None,
            journal_ref=rec.journal_ref or None,
            doi=rec.doi or None,
            license=rec.license or None,
        ).with_code_link(),
        prefix=f"{ident.id}: ",
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def parse_page(root: ET.Element, url: str) -> RecordsPage:
    """A ListRecords response as a `RecordsPage`; OAI-PMH errors as described above."""
    if root.tag != f"{OAI}OAI-PMH":
        raise SourceError(f"{url}: expected an OAI-PMH response, got <{_local(root.tag)}>")
    for error in root.findall(f"{OAI}error"):
        code, text = error.get("code", ""), clean_text("".join(error.itertext()))
        if code == "noRecordsMatch":
            return RecordsPage(url)
        if code == "badResumptionToken":
            raise BadResumptionToken(
                f"{url}: the OAI-PMH server does not accept the resumption token ({text}); "
                "tokens expire after a while."
            )
        raise SourceError(f"{url}: OAI-PMH error {code or 'without a code'}: {text}")
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise SourceError(f"{url}: the OAI-PMH response has no <ListRecords> and no <error>")
    page = RecordsPage(url)
    for number, record in enumerate(listing.findall(f"{OAI}record"), start=1):
        header = record.find(f"{OAI}header")
        if header is not None and header.get("status") == "deleted":
            page.deleted += 1
            continue
        try:
            page.items.append(checked_links(paper_from_record(record), f"{url}#record{number}"))
        except RecordError as exc:
            page.items.append(Rejected(f"{url}#record{number}", str(exc)))
    token = listing.find(f"{OAI}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        page.cursor = _int(token.get("cursor"))
        page.complete_size = _int(token.get("completeListSize"))
    return page


# -- requests --------------------------------------------------------------------------------
def first_request(set_spec: str | None, from_: date | None, until: date | None) -> dict:
    params = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
    if set_spec:
        params["set"] = set_spec
    if from_:
        params["from"] = from_.isoformat()
    if until:
        params["until"] = until.isoformat()
    return params


def fetch_page(client: PoliteClient, settings: Settings, params: dict) -> RecordsPage:
    root = client.get_xml(settings.arxiv_oai_url, params)
    return parse_page(root, full_url(settings.arxiv_oai_url, params))


def list_records(
    client: PoliteClient,
    settings: Settings,
    set_spec: str | None = None,
    from_: date | None = None,
    until: date | None = None,
    token: str | None = None,
) -> Iterator[RecordsPage]:
    """Every page of a harvest; with `token`, the pages after the one that gave it."""
    while True:
        params = (
            {"verb": "ListRecords", "resumptionToken": token}
            if token
            else first_request(set_spec, from_, until)
        )
        page = fetch_page(client, settings, params)
        yield page
        if not page.token:
            return
        token = page.token
