"""Search: one interface for the web pages, the JSON API, RSS, the CLI and topic alerts.

    engine = open_search(store, settings)
    result = engine.search("causal self-attention for vision", Filters(categories=["cs.CV"]),
                           sort="relevance", limit=20, offset=0)
    for hit in result.hits:
        hit.paper, hit.score, hit.title_spans, hit.abstract_spans, hit.why, hit.matched
    engine.similar("2405.15738", limit=5)

CONTRACT (other modules build against it; keep it stable):
- `Filters`, `Hit`, `SearchResult` as below; spans are (start, end) character offsets into
  `hit.paper.title` / `hit.paper.abstract`, rendered by `paperboy.search.highlight`;
  `search(..., highlight=False)` leaves them empty (for callers that only need the ranking).
- `search()` never raises for user input: a query it cannot use gives an empty result with
  `message` saying why. An arXiv id or URL as the query puts that paper first.
- `similar()` returns hits for the nearest papers, the paper itself excluded.
- `sort` is one of "relevance", "date", "upvotes".

The engine (engine.py) fuses a BM25 keyword index with embedding vectors (encoders.py),
written against the backends' contract (backends.py: KeywordIndex, VectorIndex, IndexSet).
Two backends keep the indexes: files beside the store (files/: tantivy, numpy/usearch) or, on
PostgreSQL (setting `search_backend`), tables (postgres/: tsvector, pgvector). One updater
(updater.py) keeps either in step with the store, and upkeep.py opens, updates, rebuilds,
checks and backfills them; query.py parses the query syntax; highlight.py renders spans.
Design and figures: docs/search.md, docs/benchmarks.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from paperboy.papers import Paper

if TYPE_CHECKING:
    from paperboy.config import Settings
    from paperboy.search.engine import HybridSearch
    from paperboy.search.updater import UpdateReport
    from paperboy.store.sql import SQLStore


# The one list of sorts, kept where the sort: operator is parsed; re-exported from here.
from paperboy.search.query import SORTS as SORTS


@dataclass
class Filters:
    categories: list[str] = field(default_factory=list)  # any of these (cat:cs.CL)
    authors: list[str] = field(default_factory=list)  # all of these (author:hinton)
    date_from: date | None = None  # published/announced on or after
    date_to: date | None = None  # on or before
    has_code: bool | None = None


@dataclass
class Hit:
    paper: Paper
    score: float
    title_spans: list[tuple[int, int]] = field(default_factory=list)
    abstract_spans: list[tuple[int, int]] = field(default_factory=list)
    why: str = ""  # e.g. "arXiv id", "keyword + semantic", "keyword", "semantic"
    # Whether the query's words matched the paper; False for a hit found by its meaning alone
    # (semantic-only). Topic alerts and Atom search feeds keep only matched hits; `why` is
    # for people.
    matched: bool = True


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int  # how many matched (at least len(hits)); may be an estimate for huge sets
    message: str | None = None  # for the user: why nothing matched, what was ignored


def open_search(store: SQLStore, settings: Settings) -> HybridSearch:
    """The search engine over this store's indexes (created empty when missing).

    Indexes that fell behind the store (a crash, an import by an older version) are brought
    up to date here, so a restart repairs them. This repair is the one index update outside
    the ingest run loop (paperboy/ingest/runs.py), which triggers every other.
    """
    from paperboy.search.backends import KeywordIndexError
    from paperboy.search.engine import HybridSearch
    from paperboy.search.upkeep import open_indexes

    indexes = open_indexes(store, settings)
    if indexes.behind(store):
        try:
            with indexes.writing(wait=False) as ours:
                if ours:  # else another process is updating them right now
                    indexes = indexes.reopened()
                    indexes.update(store)
        except KeywordIndexError as exc:
            logging.getLogger(__name__).warning("search indexes not updated: %s", exc)
    return HybridSearch(store, settings, indexes)


def update_indexes(
    store: SQLStore, settings: Settings, progress: bool = False, wait: bool = True
) -> UpdateReport | None:
    """Index what changed in the store since the last update; the ingest run loop
    (paperboy/ingest/runs.py) calls it as each run ends; only `paperboy index` (maintenance)
    and the repair in `open_search` update the indexes otherwise.
    `wait=False`: None at once, doing nothing, while another process writes the indexes."""
    from paperboy.search.upkeep import update_indexes as _update

    return _update(store, settings, progress=progress, wait=wait)
