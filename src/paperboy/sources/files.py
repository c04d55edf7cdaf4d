"""Bulk files: read JSON lines (plain or gzip) as papers, one line at a time, never whole.

Three record shapes are recognised, line by line, so one file may even mix them:
- the official arXiv metadata snapshot (`abstract`, `versions`, `authors_parsed` ...);
- Hugging Face daily-papers items (`{"paper": {...}, ...}`, as in hf_daily_papers.jsonl.gz);
- arXiv listing rows (`id, title, authors[], summary, categories[]`, with `_first_listing_date`).
A `.json` file holding one JSON array (a saved `/api/daily_papers` response) is read too.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

from paperboy.papers import FeedEntry, InvalidArxivId, Paper, clean_text, parse_arxiv_id
from paperboy.sources import RecordError, SourceError, checked_links
from paperboy.sources.hf import paper_from_hf_item


@dataclass(slots=True)
class Line:
    """One record read from a file: where it was, and the paper or the reason it was rejected."""

    number: int  # 1-based line number (or item number in a JSON array)
    end_offset: int  # byte offset just after this line in the (uncompressed) file
    position: int = 0  # bytes of the file on disk read so far (for progress)
    paper: Paper | None = None
    error: str | None = None


def _require(rec: dict, *names: str) -> None:
    for name in names:
        value = rec.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RecordError(f"missing required field {name!r}")


def _version_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        return None


def _snapshot_authors(rec: dict) -> list[str]:
    parsed = rec.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                last, first, suffix = (list(parts) + ["", "", ""])[:3]
                names.append(clean_text(" ".join(x for x in (first, last, suffix) if x)))
        return [n for n in names if n]
    text = rec.get("authors") or ""
    return [clean_text(n) for n in re.split(r",\s*|\s+and\s+", text) if clean_text(n)]


def paper_from_snapshot(rec: dict) -> Paper:
    """The arXiv metadata snapshot (Kaggle `arxiv-metadata-oai-snapshot.json`) shape."""
    _require(rec, "id", "title", "abstract")
    arxiv = parse_arxiv_id(str(rec["id"]))
    versions = rec.get("versions") or []
    dates = [_version_date(v.get("created")) for v in versions if isinstance(v, dict)]
    dates = [d for d in dates if d]
    categories = (rec.get("categories") or "").split()
    return Paper(
        id=arxiv.id,
        version=len(versions) or arxiv.version,
        title=clean_text(rec["title"]),
        abstract=clean_text(rec["abstract"]),
        authors=_snapshot_authors(rec),
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=min(dates) if dates else None,
        updated=max(dates) if dates else None,
        comment=clean_text(rec.get("comments")) or None,
        journal_ref=clean_text(rec.get("journal-ref")) or None,
        doi=(rec.get("doi") or None),
        license=rec.get("license") or None,
    ).with_code_link()


def paper_from_listing(rec: dict) -> Paper:
    """An arXiv daily-listing row (the arxiv_cs_listings corpus shape)."""
    _require(rec, "id", "title", "summary")
    arxiv = parse_arxiv_id(str(rec["id"]))
    listed = None
    if rec.get("_first_listing_date"):
        try:
            listed = date.fromisoformat(str(rec["_first_listing_date"])[:10])
        except ValueError:
            raise RecordError(f"bad _first_listing_date {rec['_first_listing_date']!r}") from None
    authors = rec.get("authors") or []
    if not isinstance(authors, list):
        raise RecordError("field 'authors' must be a list of names")
    categories = [c for c in rec.get("categories") or [] if isinstance(c, str)]
    return Paper(
        id=arxiv.id,
        version=arxiv.version,
        title=clean_text(rec["title"]),
        abstract=clean_text(rec["summary"]),
        authors=[clean_text(str(a)) for a in authors if str(a).strip()],
        categories=categories,
        primary_category=categories[0] if categories else None,
        announced=listed,
        comment=clean_text(rec.get("comment")) or None,
        entry=FeedEntry(day=listed, source="arxiv") if listed else None,
    ).with_code_link()


def paper_from_record(rec) -> Paper:
    """Recognise the record's shape and map it; RecordError when it is none we know."""
    try:
        return _map_record(rec)
    except (TypeError, AttributeError) as exc:
        # e.g. a list where a title belongs: reject this line, not the whole import.
        raise RecordError(f"a field has the wrong type ({exc})") from None


def _map_record(rec) -> Paper:
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


def _parse_line(raw: bytes) -> Paper:
    try:
        rec = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    try:
        return paper_from_record(rec)
    except InvalidArxivId as exc:
        raise RecordError(str(exc)) from None


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open plain or gzip (by magic bytes, whatever the name) for binary line reading."""
    try:
        fh = open(path, "rb")
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
        if head.lstrip()[:1] == b"[":
            yield from _read_array(path, fh, head, start_line)
            return
        fh.seek(0)
        disk = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        number, offset = 0, 0
        if start_offset and not isinstance(fh, gzip.GzipFile):
            fh.seek(start_offset)
            number, offset = start_line, start_offset
        for raw in fh:
            number += 1
            offset += len(raw)
            if number <= start_line:
                continue
            if not raw.strip():
                continue
            position = disk.tell() if number % 256 == 0 else 0
            try:
                paper = checked_links(_parse_line(raw), f"{path}:{number}")
                yield Line(number, offset, position, paper=paper)
            except RecordError as exc:
                yield Line(number, offset, position, error=str(exc))


def _read_array(path: Path, fh, head: bytes, start_line: int) -> Iterator[Line]:
    try:
        items = json.loads(head + fh.read())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path}: not valid JSON ({exc}); expected JSON lines or one array") \
            from None
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a JSON array of daily-papers items")
    for number, item in enumerate(items, start=1):
        if number <= start_line:
            continue
        try:
            yield Line(number, 0, paper=checked_links(paper_from_record(item), f"{path}:{number}"))
        except (RecordError, InvalidArxivId) as exc:
            yield Line(number, 0, error=str(exc))


def file_fingerprint(path: Path) -> str:
    """Same path, size and modification time: the same import (a rerun resumes it)."""
    stat = path.stat()
    return f"import:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
