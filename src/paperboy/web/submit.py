"""Submitting a paper to today's feed by arXiv id or URL (the /submit page and the API).

A stored paper joins the feed at once; an unknown one is fetched through the arXiv source.
Refusals carry an HTTP status and a message the user can act on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from paperboy.papers import FeedEntry, InvalidArxivId, Paper, parse_arxiv_id
from paperboy.store.accounts import User


class SubmitRefused(Exception):
    def __init__(self, status: int, message: str, paper_id: str | None = None):
        super().__init__(message)
        self.status, self.message, self.paper_id = status, message, paper_id


def utc_today():
    return datetime.now(UTC).date()


def fetch_from_arxiv(arxiv_id: str, settings) -> Paper:
    """The paper's metadata from the arXiv API; SubmitRefused when arXiv cannot give it."""
    try:
        from paperboy.sources.arxiv_api import fetch_papers
    except ImportError:
        raise SubmitRefused(
            503, f"{arxiv_id} is not stored here and this installation cannot fetch papers "
                 "from arXiv yet (the arXiv API source is missing)", arxiv_id) from None
    from paperboy.sources import SourceError

    try:
        found = fetch_papers([arxiv_id], settings)
    except SourceError as exc:
        raise SubmitRefused(502, f"could not fetch {arxiv_id} from arXiv: {exc}", arxiv_id) \
            from None
    for paper in found:
        if paper.id == arxiv_id:
            return paper
    raise SubmitRefused(404, f"arXiv has no paper {arxiv_id}: check the id", arxiv_id)


def submit_paper(store, settings, user: User, text: str) -> Paper:
    """Put the paper named by `text` into today's feed, submitted by `user`; the stored paper."""
    try:
        arxiv = parse_arxiv_id(text or "")
    except InvalidArxivId as exc:
        raise SubmitRefused(400, str(exc)) from None
    paper = store.get(arxiv.id)
    if paper is not None and paper.entry is not None:
        raise SubmitRefused(
            409, f"{arxiv.id} is already in the feed (since {paper.entry.day.isoformat()})",
            arxiv.id)
    if paper is None:
        paper = fetch_from_arxiv(arxiv.id, settings)
    entry = FeedEntry(day=utc_today(), source="user", submitted_by=user.name)
    store.upsert([replace(paper, entry=entry)])
    from paperboy.search import update_indexes

    update_indexes(store, settings)  # searchable right away, like after a sync
    return store.get(arxiv.id)
