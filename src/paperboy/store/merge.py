"""How an incoming record combines with the stored one: pure functions, shared by every backend.

Rules (they make imports idempotent and order-tolerant):
- a newer arXiv version replaces the text fields; an older one only fills gaps;
- the first-submitted and first-announced dates only move earlier, `updated` only later;
- upvotes only grow (snapshots of an upstream counter may arrive out of order);
- an empty incoming value never erases a stored one;
- a feed entry keeps the earliest day the paper entered the feed;
- a link that fails the allow-list (paperboy.links) is never kept, incoming or stored: the
  sources warn about one, this is the guarantee for every other way in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from paperboy.papers import FeedEntry, Paper

_TEXT_FIELDS = (
    "title",
    "abstract",
    "authors",
    "categories",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "license",
    "code_url",
    "project_url",
    "keywords",
)


T = TypeVar("T", int, date)


def _min(a: T | None, b: T | None) -> T | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: T | None, b: T | None) -> T | None:
    return b if a is None else a if b is None else max(a, b)


def merge_paper(old: Paper | None, new: Paper) -> Paper:
    """The paper to store when `new` arrives and `old` is stored (None: not stored yet)."""
    new = new.without_unsafe_links().with_code_link()
    if old is None:
        return replace(new, upvotes=new.upvotes or 0)
    old = old.without_unsafe_links()  # one stored before the check: gone on its next update
    older = new.version is not None and old.version is not None and new.version < old.version
    merged: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        mine, theirs = getattr(old, name), getattr(new, name)
        if older:
            merged[name] = mine if mine else theirs
        else:
            merged[name] = theirs if theirs else mine
    return replace(
        old,
        **merged,
        version=_max(old.version, new.version),
        published=_min(old.published, new.published),
        announced=_min(old.announced, new.announced),
        updated=_max(old.updated, new.updated),
        upvotes=_max(old.upvotes, new.upvotes) or 0,
        entry=merge_entry(old.entry, new.entry),
    )


def merge_entry(old: FeedEntry | None, new: FeedEntry | None) -> FeedEntry | None:
    if old is None or new is None:
        return old or new
    first = old if old.day <= new.day else new
    return FeedEntry(
        day=first.day,
        source=first.source,
        submitted_by=new.submitted_by or old.submitted_by,
        organization=new.organization or old.organization,
        organization_name=new.organization_name or old.organization_name,
        num_comments=_max(old.num_comments, new.num_comments),
    )
