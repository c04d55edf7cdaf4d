"""Rows and records: how the store's columns map onto the domain records and back, shared by
the repositories (papers.py, runs.py, accounts.py, mail.py).

    paper = row_to_paper(conn.execute(f"{SELECT_PAPER} WHERE p.id = ?", (pid,)).fetchone())

Dates and timestamps are stored as ISO text (SQLite) or DATE / TIMESTAMPTZ (PostgreSQL), and
read back into `date` and `datetime` here, whichever the driver returned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from paperboy.papers import FeedEntry, Paper

NO_LIMIT = 2**62  # "LIMIT -1" is SQLite-only and "LIMIT NULL" PostgreSQL-only

PAPER_COLUMNS = (
    "id, version, title, abstract, authors, categories, primary_category, published, updated, "
    "announced, comment, journal_ref, doi, license, code_url, project_url, upvotes, keywords"
)
ENTRY_COLUMNS = "day, source, submitted_by, organization, organization_name, num_comments"
SELECT_PAPER = (
    f"SELECT p.{PAPER_COLUMNS.replace(', ', ', p.')}, "
    f"e.{ENTRY_COLUMNS.replace(', ', ', e.')} "
    "FROM papers p LEFT JOIN feed_entries e ON e.paper_id = p.id"
)
# Shown upvotes: papers.upvotes (upstream) plus the count of local `votes` rows (accounts.py).
LOCAL_VOTES = "(SELECT count(*) FROM votes v WHERE v.paper_id = p.id)"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def as_day(value: str | date | None) -> date | None:
    return None if value is None else as_date(value)


def as_date(value: str | date) -> date:
    if isinstance(value, date):
        return value  # PostgreSQL returns DATE columns as dates already
    return date.fromisoformat(value)


def to_stamp(moment: datetime) -> str:
    """A timestamp as stored: ISO text in UTC to the second, so SQLite's text order is time
    order (PostgreSQL reads the same text into TIMESTAMPTZ)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def as_moment(value: str | datetime | None) -> datetime | None:
    """A timestamp stored as ISO text (SQLite) or TIMESTAMPTZ (PostgreSQL)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def row_to_paper(row: Sequence[Any]) -> Paper:
    (
        pid,
        version,
        title,
        abstract,
        authors,
        categories,
        primary,
        published,
        updated,
        announced,
        comment,
        journal_ref,
        doi,
        license_,
        code_url,
        project_url,
        upvotes,
        keywords,
        day,
        source,
        submitted_by,
        org,
        org_name,
        num_comments,
    ) = row
    entry = None
    if day is not None:
        entry = FeedEntry(as_date(day), source, submitted_by, org, org_name, num_comments)
    return Paper(
        id=pid,
        version=version,
        title=title,
        abstract=abstract,
        authors=json.loads(authors),
        categories=json.loads(categories),
        primary_category=primary,
        published=as_day(published),
        updated=as_day(updated),
        announced=as_day(announced),
        comment=comment,
        journal_ref=journal_ref,
        doi=doi,
        license=license_,
        code_url=code_url,
        project_url=project_url,
        upvotes=upvotes,
        keywords=json.loads(keywords),
        entry=entry,
    )


def paper_values(p: Paper) -> tuple[Any, ...]:
    return (
        p.id,
        p.version,
        p.title,
        p.abstract,
        json.dumps(p.authors, ensure_ascii=False),
        json.dumps(p.categories),
        p.primary_category,
        iso(p.published),
        iso(p.updated),
        iso(p.announced),
        p.comment,
        p.journal_ref,
        p.doi,
        p.license,
        p.code_url,
        p.project_url,
        p.upvotes or 0,
        json.dumps(p.keywords, ensure_ascii=False),
    )


def entry_values(paper_id: str, e: FeedEntry) -> tuple[Any, ...]:
    return (
        paper_id,
        iso(e.day),
        e.source,
        e.submitted_by,
        e.organization,
        e.organization_name,
        e.num_comments or 0,
    )
