"""Bulk files: read JSON lines (plain or gzip) as papers, one line at a time, never whole.

Three record shapes are recognised, line by line, so one file may even mix them:
- the official arXiv metadata snapshot (`abstract`, `versions`, `authors_parsed` ...);
- Hugging Face daily-papers items (`{"paper": {...}, ...}`, as in hf_daily_papers.jsonl.gz);
- arXiv listing rows (`id, title, authors[], summary, categories[]`, with `_first_listing_date`).
A `.json` file holding one JSON array (a saved `/api/daily_papers` response) is read too.
Lines are UTF-8 (a UTF-16 file is refused as such); each is checked against its shape's schema
(`SnapshotLine`, `ListingLine`, `HFItem`), and a bad line yields its reason, not an exception.
A link that fails the allow-list is dropped from its paper with a warning naming `file:line`.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

from pydantic import Field

from paperboy import bounds
from paperboy.papers import FeedEntry, InvalidArxivId, Paper, clean_text, parse_arxiv_id
from paperboy.sources import RecordError, SourceError, checked, checked_links
from paperboy.sources.hf import paper_from_hf_item
from paperboy.sources.schema import (
    Abstract,
    AuthorName,
    AuthorsText,
    CategoriesText,
    Category,
    Comment,
    DateText,
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


@dataclass(slots=True)
class Line:
    """One record read from a file: where it was, and the paper or the reason it was rejected."""

    number: int  # 1-based line number (or item number in a JSON array)
    end_offset: int  # byte offset just after this line in the (uncompressed) file
    position: int = 0  # bytes of the file on disk read so far (for progress)
    paper: Paper | None = None
    error: str | None = None


# -- the schemas: every field of a snapshot line and of a listing row that paperboy reads ------
class SnapshotVersion(Record):
    created: DateText | None = None  # "Mon, 2 Apr 2007 19:18:42 GMT"


class SnapshotLine(Record):
    id: IdText
    title: Title | None = None
    abstract: Abstract | None = None
    authors: AuthorsText | None = None
    authors_parsed: list_of(list_of(AuthorName, 10), bounds.AUTHORS) | None = None
    categories: CategoriesText | None = None
    comments: Comment | None = None
    journal_ref: JournalRef | None = Field(None, alias="journal-ref")
    doi: Doi | None = None
    license: License | None = None
    versions: list_of(SnapshotVersion, bounds.VERSIONS) | None = None


class ListingLine(Record):
    id: IdText
    title: Title | None = None
    summary: Abstract | None = None
    authors: list_of(AuthorName, bounds.AUTHORS) | None = None
    categories: list_of(Category, bounds.CATEGORIES) | None = None
    comment: Comment | None = None
    first_listing_date: Day | None = Field(None, alias="_first_listing_date")


def _require(rec: Record, *names: str) -> None:
    for name in names:
        value = getattr(rec, name)
        if value is None or not value.strip():
            raise RecordError(f"missing required field {name!r}")


def _arxiv_id(text: str):
    try:
        return parse_arxiv_id(text)
    except InvalidArxivId as exc:
        raise RecordError(str(exc)) from None


def _version_date(number: int, text: str | None) -> date | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        raise RecordError(
            f"versions[{number}].created: {text!r} is not a date "
            "(expected e.g. 'Mon, 2 Apr 2007 19:18:42 GMT')"
        ) from None


def _snapshot_authors(rec: SnapshotLine) -> list[str]:
    if rec.authors_parsed:
        names = []
        for parts in rec.authors_parsed:
            if parts:
                last, first, suffix = (list(parts) + ["", "", ""])[:3]
                names.append(clean_text(" ".join(x for x in (first, last, suffix) if x)))
        return [n for n in names if n]
    text = rec.authors or ""
    return [clean_text(n) for n in re.split(r",\s*|\s+and\s+", text) if clean_text(n)]


def paper_from_snapshot(data: dict) -> Paper:
    """The arXiv metadata snapshot (Kaggle `arxiv-metadata-oai-snapshot.json`) shape."""
    rec = validate(SnapshotLine, data)
    _require(rec, "id", "title", "abstract")
    arxiv = _arxiv_id(rec.id)
    versions = rec.versions or []
    dates = [d for n, v in enumerate(versions) if (d := _version_date(n, v.created))]
    categories = (rec.categories or "").split()
    return checked(
        Paper(
            id=arxiv.id,
            version=len(versions) or arxiv.version,
            title=clean_text(rec.title),
            abstract=clean_text(rec.abstract),
            authors=_snapshot_authors(rec),
            categories=categories,
            primary_category=categories[0] if categories else None,
            published=min(dates) if dates else None,
            updated=max(dates) if dates else None,
            comment=clean_text(rec.comments) or None,
            journal_ref=clean_text(rec.journal_ref) or None,
            doi=clean_text(rec.doi) or None,
            license=clean_text(rec.license) or None,
        ).with_code_link()
    )


def paper_from_listing(data: dict) -> Paper:
    """An arXiv daily-listing row (the arxiv_cs_listings corpus shape)."""
    rec = validate(ListingLine, data)
    _require(rec, "id", "title", "summary")
    arxiv = _arxiv_id(rec.id)
    listed = rec.first_listing_date
    categories = [c for c in rec.categories or [] if c.strip()]
    return checked(
        Paper(
            id=arxiv.id,
            version=arxiv.version,
            title=clean_text(rec.title),
            abstract=clean_text(rec.summary),
            authors=[clean_text(a) for a in rec.authors or [] if a.strip()],
            categories=categories,
            primary_category=categories[0] if categories else None,
            announced=listed,
            comment=clean_text(rec.comment) or None,
            entry=FeedEntry(day=listed, source="arxiv") if listed else None,
        ).with_code_link()
    )


def paper_from_record(rec) -> Paper:
    """Recognise the record's shape and map it; RecordError when it is none we know."""
    if not isinstance(rec, dict):
        raise RecordError(f"expected a JSON object, got {type(rec).__name__}")
    if "paper" in rec:
        return paper_from_hf_item(rec)
    if "abstract" in rec or "versions" in rec or "authors_parsed" in rec:
        return paper_from_snapshot(rec)
    if "summary" in rec or "_first_listing_date" in rec:
        return paper_from_listing(rec)
    raise RecordError(
        "unrecognised record: expected an arXiv snapshot line (id, title, abstract), "
        "a Hugging Face daily-papers item (paper{...}) or an arXiv listing row (id, title, summary)"
    )


def _parse_line(raw: bytes, first: bool = False) -> Paper:
    if first:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(
            f"not UTF-8: byte 0x{raw[exc.start]:02x} at column {exc.start + 1} cannot be read "
            "as UTF-8 text (JSON lines files are UTF-8)"
        ) from None
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise RecordError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise RecordError(f"invalid JSON: {exc}") from None
    return paper_from_record(rec)


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open plain or gzip (by magic bytes, whatever the name) for binary line reading."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 (handed to the caller, who closes it)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return fh


def read_file(path: Path, start_line: int = 0, start_offset: int = 0) -> Iterator[Line]:
    """Yield every record of the file after `start_line` (resume from a checkpoint).

    For a plain file `start_offset` seeks straight there; a gzip file is skipped line by line.
    """
    with open_binary(path) as fh:
        first = fh.read(1)
        if first == b"":
            return
        # Skip leading whitespace to see whether this is one JSON array rather than JSON lines.
        head = first + fh.read(64)
        _refuse_utf16(path, head)
        if head.lstrip()[:1] == b"[":
            yield from _read_array(path, fh, head, start_line)
            return
        fh.seek(0)
        disk = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        number, offset = 0, 0
        if start_offset and not isinstance(fh, gzip.GzipFile):
            fh.seek(start_offset)
            number, offset = start_line, start_offset
        for raw, size in _lines(fh):
            number += 1
            offset += size
            if number <= start_line:
                continue
            if raw is not None and not raw.strip():
                continue
            position = disk.tell() if number % 256 == 0 else 0
            try:
                if raw is None:
                    raise RecordError(
                        f"line of {size:,} bytes, more than the "
                        f"{bounds.LINE_BYTES:,} a record may take"
                    )
                paper = checked_links(_parse_line(raw, offset == size), f"{path}:{number}")
                yield Line(number, offset, position, paper=paper)
            except RecordError as exc:
                yield Line(number, offset, position, error=str(exc))


def _lines(fh) -> Iterator[tuple[bytes | None, int]]:
    """(line, its size in bytes) for each line; None for a line over `LINE_BYTES`, which is
    skipped to its end a megabyte at a time rather than read into memory whole."""
    while raw := fh.readline(bounds.LINE_BYTES + 1):
        if len(raw) <= bounds.LINE_BYTES or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        size = len(raw)
        while rest := fh.readline(2**20):
            size += len(rest)
            if rest.endswith(b"\n"):
                break
        yield None, size


def _refuse_utf16(path: Path, head: bytes) -> None:
    """A UTF-16 file (a byte-order mark, then NUL bytes between the characters) would fail
    line by line with puzzling reasons: say once what it is instead."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) and b"\x00" in head[2:8]:
        raise SourceError(
            f"{path}: the file is UTF-16; paperboy reads UTF-8 JSON lines. Convert it first, "
            f"e.g. iconv -f UTF-16 -t UTF-8 {path.name} > {path.stem}.utf8.jsonl"
        )


def _read_array(path: Path, fh, head: bytes, start_line: int) -> Iterator[Line]:
    data = head + fh.read(bounds.ARRAY_FILE_BYTES + 1 - len(head))
    if len(data) > bounds.ARRAY_FILE_BYTES:
        raise SourceError(
            f"{path}: a JSON array of more than {bounds.ARRAY_FILE_BYTES // 2**20} MB; "
            "write one record per line (JSON lines) instead"
        )
    try:
        items = json.loads(data)
    except (ValueError, RecursionError) as exc:  # bad UTF-8 and bad JSON are ValueErrors
        raise SourceError(
            f"{path}: not valid JSON ({exc}); expected JSON lines or one array"
        ) from None
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a JSON array of daily-papers items")
    for number, item in enumerate(items, start=1):
        if number <= start_line:
            continue
        try:
            paper = checked_links(paper_from_record(item), f"{path}:{number}")
            yield Line(number, 0, paper=paper)
        except RecordError as exc:
            yield Line(number, 0, error=str(exc))


def file_fingerprint(path: Path) -> str:
    """Same path, size and modification time: the same import (a rerun resumes it)."""
    stat = path.stat()
    return f"import:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
