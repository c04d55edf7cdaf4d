"""Bounds: the most paperboy takes in from any upstream, and the most one answer sends out.

    problems = paper_problems(paper)   # [] or reasons such as "title: 2,048 characters, ..."

Ingest limits hold for every record every source reads (`paperboy import`, sync, harvest,
fetch, submissions): the per-format schemas in `paperboy/sources/` check them on the raw
fields, and `paper_problems` checks the `Paper` a parser made, so no source can store more.
A record over a limit is rejected with the field and the limit. Nothing is cut at ingest:
a shortened title or author list would be stored as if it were the paper's. The limits sit
3-10x above the largest values in the real corpora (arXiv listings 2025-26, 74,728 papers; HF
daily papers 2024-26, 9,877 papers; the arXiv snapshot), noted beside each, so a real paper
never meets them. docs/security.md lists them; tests/test_bounds.py keeps that page true.

Response caps bound what one request can make the server send: lists (API feed and search
items, Atom entries) carry at most LIST_AUTHORS names and LIST_ABSTRACT_CHARS of an abstract;
one paper's own page and `/api/papers/ID` carry all of it (bounded by the ingest limits).
A search's text (QUERY_CHARS) is long enough for a pasted abstract and no longer.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

# -- ingest: text fields, in characters (after whitespace is collapsed) ---------------------------
ID_CHARS = 200  # an id as given (a URL form too); arXiv ids are at most 20
TITLE_CHARS = 1_000  # real max 226
ABSTRACT_CHARS = 10_000  # real max 3,488; arXiv's own form allows 1,920
SUMMARY_CHARS = 5_000  # HF's one-line ai_summary; real max 1,606
AUTHORS = 10_000  # names per paper; real max 3,303 (a 2025 collaboration paper)
AUTHOR_CHARS = 1_000  # one name; real max 512 (a list an upstream failed to split)
AUTHORS_TOTAL_CHARS = 200_000  # all names together; real max 41,524
COMMENT_CHARS = 5_000  # real max 421
JOURNAL_REF_CHARS = 1_000  # real max 175
DOI_CHARS = 300  # real max 55
LICENSE_CHARS = 300  # a license URL; real max 51
URL_CHARS = 2_000  # code and project links; real max 247
CATEGORIES = 100  # per paper; real max 8
CATEGORY_CHARS = 200  # real max 153 (MSC/ACM classes listed as categories)
KEYWORDS = 200  # per paper; real max 44
KEYWORD_CHARS = 200  # real max 73
NAME_CHARS = 300  # organization handle and name, submitter; real max 79
DATE_CHARS = 64  # a date or timestamp as text
# -- ingest: numbers ----------------------------------------------------------------------------
COUNT_MAX = 10**9  # upvotes, comments: real max 250; far below what the store's integers hold
VERSION_MAX = 10_000  # arXiv versions of one paper; real max is in the tens
VERSIONS = 10_000  # entries in a snapshot record's version list
FIRST_DAY = date(1991, 1, 1)  # arXiv began in August 1991
FUTURE_DAYS = 2  # a date may be this far past today (UTC): upstream time zones run ahead
# -- ingest: whole records ------------------------------------------------------------------------
LINE_BYTES = 4 * 2**20  # one JSON line; real max 56,275 bytes
ARRAY_FILE_BYTES = 256 * 2**20  # a .json file holding one array is read whole; real ~100 KB

# -- requests -------------------------------------------------------------------------------------
# A search's text (q of the search page, its feed and the API): room for a pasted abstract (real
# max 3,488 characters). 12 bytes a character at worst in the URL (%XX per byte of a 4-byte
# character): 60,000, under the 65,535 bytes httptools, the server's parser, takes in a URL.
QUERY_CHARS = 5_000

# -- responses ------------------------------------------------------------------------------------
API_PAGE_ITEMS = 100  # items per /api/daily_papers page
API_SEARCH_ITEMS = 120  # results per /api/papers/search answer
ATOM_ENTRIES = 100  # entries per Atom feed
LIST_AUTHORS = 100  # names per paper in a list (API items, Atom entries); pages show 3
LIST_ABSTRACT_CHARS = 4_000  # of an abstract in a list; above every real abstract

# Lone surrogates cannot be written as UTF-8: the store would fail on the whole batch.
_SURROGATE = re.compile("[\ud800-\udfff]")

_TEXT_LIMITS = {
    "id": ID_CHARS,
    "title": TITLE_CHARS,
    "abstract": ABSTRACT_CHARS,
    "primary_category": CATEGORY_CHARS,
    "comment": COMMENT_CHARS,
    "journal_ref": JOURNAL_REF_CHARS,
    "doi": DOI_CHARS,
    "license": LICENSE_CHARS,
    "code_url": URL_CHARS,
    "project_url": URL_CHARS,
    "ai_summary": SUMMARY_CHARS,
}
_LIST_LIMITS = {  # field: (most items, most characters per item)
    "authors": (AUTHORS, AUTHOR_CHARS),
    "categories": (CATEGORIES, CATEGORY_CHARS),
    "keywords": (KEYWORDS, KEYWORD_CHARS),
}
_ENTRY_TEXT_LIMITS = {
    "source": NAME_CHARS,
    "submitted_by": NAME_CHARS,
    "organization": NAME_CHARS,
    "organization_name": NAME_CHARS,
}


def last_day(today: date | None = None) -> date:
    """The latest date a record may carry (today in UTC, plus upstream time-zone slack)."""
    today = today or datetime.now(UTC).date()
    return today + timedelta(days=FUTURE_DAYS)


def day_problem(day: date, today: date | None = None) -> str | None:
    """Why a date cannot be a paper's (before arXiv, or in the future), or None."""
    if not FIRST_DAY <= day <= last_day(today):
        return f"date {day.isoformat()} is outside {FIRST_DAY.isoformat()}..today"
    return None


def text_problem(name: str, value, limit: int, required: bool = False) -> str | None:
    """Why `value` cannot be the text field `name`, or None."""
    if value is None:
        return f"missing required field {name!r}" if required else None
    if not isinstance(value, str):
        return f"{name}: expected text, got {type(value).__name__}"
    if len(value) > limit:
        return f"{name}: {len(value):,} characters, more than the {limit:,} allowed"
    if _SURROGATE.search(value):
        return f"{name}: not valid Unicode (a lone surrogate such as \\ud800)"
    return None


def count_problem(name: str, value, most: int = COUNT_MAX) -> str | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return f"{name}: expected a whole number, got {type(value).__name__}"
    if not 0 <= value <= most:
        return f"{name}: {value} is outside 0..{most:,}"
    return None


def list_problem(name: str, values, most: int, chars: int) -> str | None:
    if not isinstance(values, list):
        return f"{name}: expected a list, got {type(values).__name__}"
    if len(values) > most:
        return f"{name}: {len(values):,} items, more than the {most:,} allowed"
    for value in values:
        if problem := text_problem(name, value, chars):
            return problem
    return None


def paper_problems(paper, today: date | None = None) -> list[str]:
    """Every reason this `Paper` may not be stored (wrong type, too long, out of range)."""
    problems = [
        text_problem(
            name, getattr(paper, name), limit, required=name in ("id", "title", "abstract")
        )
        for name, limit in _TEXT_LIMITS.items()
    ]
    problems += [
        list_problem(name, getattr(paper, name), *limits) for name, limits in _LIST_LIMITS.items()
    ]
    if isinstance(paper.authors, list) and all(isinstance(a, str) for a in paper.authors):
        total = sum(len(a) for a in paper.authors)
        if total > AUTHORS_TOTAL_CHARS:
            problems.append(
                f"authors: {total:,} characters in all, more than the "
                f"{AUTHORS_TOTAL_CHARS:,} allowed"
            )
    problems += [
        count_problem("upvotes", paper.upvotes),
        count_problem("github_stars", paper.github_stars),
        count_problem("version", paper.version, VERSION_MAX),
    ]
    for name in ("published", "updated", "announced"):
        problems.append(_date_field_problem(name, getattr(paper, name), today))
    if paper.entry is not None:
        problems += _entry_problems(paper.entry, today)
    return [p for p in problems if p]


def _entry_problems(entry, today: date | None) -> list[str | None]:
    problems = [_date_field_problem("feed day", entry.day, today, required=True)]
    problems += [
        text_problem(name, getattr(entry, name), limit)
        for name, limit in _ENTRY_TEXT_LIMITS.items()
    ]
    problems.append(count_problem("num_comments", entry.num_comments))
    return problems


def _date_field_problem(name: str, value, today: date | None, required: bool = False) -> str | None:
    if value is None:
        return f"missing required field {name!r}" if required else None
    if not isinstance(value, date):
        return f"{name}: expected a date, got {type(value).__name__}"
    problem = day_problem(value, today)
    return f"{name}: {problem}" if problem else None


def checked_fields() -> set[str]:
    """The `Paper` fields `paper_problems` looks at (a test keeps this complete)."""
    return (
        set(_TEXT_LIMITS)
        | set(_LIST_LIMITS)
        | {"upvotes", "version", "published", "updated", "announced", "entry", "github_stars"}
    )


def paper_fields() -> set[str]:
    from paperboy.papers import Paper

    return {f.name for f in fields(Paper)}
