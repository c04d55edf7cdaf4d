"""Search: one interface for the web pages, the JSON API, RSS, the CLI and topic alerts.

    engine = open_search(store, settings)
    result = engine.search("causal self-attention for vision", Filters(categories=["cs.CV"]),
                           sort="relevance", limit=20, offset=0)
    for hit in result.hits:
        hit.paper, hit.score, hit.title_spans, hit.abstract_spans, hit.why
    engine.similar("2405.15738", limit=5)

CONTRACT (other modules build against it; keep it stable):
- `Filters`, `Hit`, `SearchResult` as below; spans are (start, end) character offsets into
  `hit.paper.title` / `hit.paper.abstract`, rendered by `paperboy.search.highlight`.
- `search()` never raises for user input: a query it cannot use gives an empty result with
  `message` saying why. An arXiv id or URL as the query puts that paper first.
- `similar()` returns hits for the nearest papers, the paper itself excluded.
- `sort` is one of "relevance", "date", "upvotes".

This file holds a placeholder engine (substring match over the store) until the real hybrid
engine lands (issue: hybrid search).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperboy.papers import Paper, try_parse_arxiv_id

SORTS = ("relevance", "date", "upvotes")


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


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int  # how many matched (at least len(hits)); may be an estimate for huge sets
    message: str | None = None  # for the user: why nothing matched, what was ignored


class PlaceholderSearch:
    """Substring match over the store. Replaced by the hybrid engine; kept minimal on purpose."""

    def __init__(self, store):
        self.store = store

    def search(self, query: str, filters: Filters | None = None, sort: str = "relevance",
               limit: int = 20, offset: int = 0) -> SearchResult:
        query = (query or "").strip()
        arxiv = try_parse_arxiv_id(query)
        if arxiv:
            paper = self.store.get(arxiv.id)
            hits = [Hit(paper, 1.0, why="arXiv id")] if paper else []
            return SearchResult(hits, len(hits), None if hits else f"{arxiv.id} is not stored")
        words = [w.lower() for w in query.split() if w]
        if not words:
            return SearchResult([], 0, "type a few words, an author or an arXiv id")
        found = []
        for paper in self.store.iter_papers():
            text = f"{paper.title} {paper.abstract}".lower()
            if all(w in text for w in words):
                found.append(Hit(paper, 1.0, why="keyword"))
        return SearchResult(found[offset:offset + limit], len(found))

    def similar(self, paper_id: str, limit: int = 5) -> list[Hit]:
        return []


def open_search(store, settings):
    return PlaceholderSearch(store)
