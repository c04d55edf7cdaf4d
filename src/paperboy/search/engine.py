"""The hybrid search engine: keyword (BM25) and semantic (embeddings) rankings, fused.

    engine = HybridSearch(store, settings)
    engine.search("causal self-attention for vision", Filters(categories=["cs.CV"]))
    engine.similar("2405.15738", limit=5)

A query runs in four steps: parse it (query.py); take the top `CANDIDATES` papers by BM25
and by cosine (vectors of the transformer where a paper has them, else of the static model);
keep the semantic candidates that satisfy the query's phrases, filters and exclusions; fuse
the two normalised scores (fusion.py), with the keyword weight tuned for the vectors used and
the query's length (a sentence leans more on the transformer than two or three words do).
Over many vectors (`SEARCH_AT_ONCE_FROM`) the nearest papers are looked up in a thread while
the keyword index ranks (`_nearest`); the keyword candidates' cosines follow.
Sorting by date or upvotes lists every paper that contains all the words, newest (or most
upvoted) first.

A query's vector is kept in a bounded cache keyed by its normalised text (`QueryVectors`):
the transformer spends ~16 ms of CPU on one, half of a search page, and people repeat
queries (paging, feeds, topic alerts). Similar papers fuse the paper's vector neighbours with
BM25 over its own title and abstract (`SIMILAR_KEYWORD_WEIGHT`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search import SORTS, Filters, Hit, SearchResult
from paperboy.search.backends import (
    IndexSet,
    KeywordIndexError,
    VectorIndex,
    day_number,
    paper_day,
)
from paperboy.search.encoders import EncoderError
from paperboy.search.fusion import fuse_scores, keyword_weight_for, min_max, query_words
from paperboy.search.highlight import match_spans, query_terms
from paperboy.search.query import ParsedQuery, has_constraints, parse_query, prose_query
from paperboy.search.updater import MAX_PASSAGES, paper_text, passage_id
from paperboy.search.upkeep import open_indexes

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

log = logging.getLogger(__name__)

CANDIDATES = 100  # per ranking; tuned on SciFact (Recall@100 is where fusion draws from)
MAX_LIMIT = 200
MAX_OFFSET = 10_000
REFRESH_EVERY = 2.0  # seconds between checks that another process changed the indexes
QUERY_CACHE_SIZE = 2048  # query vectors kept per engine (384 floats each: ~3 MB)
# Share of BM25 (the paper's title and abstract as the query) in similar(); the vectors get
# the rest. Tuned with bench/similar_papers.py (docs/benchmarks.md).
SIMILAR_KEYWORD_WEIGHT = 0.3
SIMILAR_CACHE_SIZE = 1024  # similar() rankings kept per engine (a paper page asks on each view)
# From this many vectors on, the nearest papers are looked up in a thread of their own while
# the keyword index ranks (both wait without the GIL: tantivy and usearch, or PostgreSQL on a
# pooled connection of its own), so a hybrid query costs the longer of the two, not their sum
# (bench/arxiv_scale.py --latency: p50 15.9 against 20.3 ms at 2.7M papers in index files).
# Below it the vector side is a millisecond or two: not worth a thread hop.
SEARCH_AT_ONCE_FROM = 50_000


@dataclass
class Ranking:
    """One query's ranked candidates with the evidence behind each (for hits and benches)."""

    ranked: list[tuple[str, float]]
    total: int
    keyword: dict[str, float] = field(default_factory=dict)
    semantic: dict[str, float] = field(default_factory=dict)
    semantic_top: set[str] = field(default_factory=set)
    models: dict[str, str] = field(default_factory=dict)  # paper -> model its cosine came from


class Nearest(NamedTuple):
    """One vector set's nearest papers to a query (best first), and the query's vector."""

    vectors: VectorIndex
    vector: np.ndarray
    found: list[tuple[str, float]]


class QueryVectors:
    """A bounded LRU cache of query vectors, keyed by model and normalised query text."""

    def __init__(self, size: int = QUERY_CACHE_SIZE):
        self.size = size
        self.hits = self.misses = 0
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, text: str) -> tuple[str, str]:
        return model, " ".join(text.lower().split())

    def get(self, model: str, text: str, encode: Callable[[str], np.ndarray]) -> np.ndarray:
        """The vector of `text`, encoded by `encode(text)` only when it is not cached."""
        key = self.key(model, text)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                self.hits += 1
                return vector
            self.misses += 1
        vector = encode(text)
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector

    def __len__(self) -> int:
        return len(self._vectors)


class HybridSearch:
    def __init__(self, store: SQLStore, settings: Settings, indexes: IndexSet | None = None):
        self.store = store
        self.settings = settings
        self.indexes = indexes or open_indexes(store, settings)
        self._stamp = self.indexes.stamp()
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self.query_vectors = QueryVectors()
        # similar() rankings by (paper, limit), valid while the indexes keep this stamp: a
        # paper page asks for the same neighbours on every view.
        self._similar: OrderedDict[tuple[str, int], list[tuple[str, float]]] = OrderedDict()
        self._similar_stamp = self._stamp
        self._threads: ThreadPoolExecutor | None = None  # for `_nearest`, made on first use

    def warm(self) -> list[str]:
        """Load every query encoder and run one query through each index, so that the first
        search after a start does not pay for it (it took 1.9 s with the transformer).
        Returns the models loaded. `paperboy serve` calls it in each worker before serving."""
        warmup = parse_query("warm up")
        self.indexes.keyword.search(warmup, limit=1)
        models = []
        for vectors in self._vector_sets():
            vectors.search(self.indexes.encoder(vectors.model).encode([warmup.text])[0], 1)
            models.append(vectors.model)
        return models

    def query_vector(self, model: str, text: str) -> np.ndarray:
        """The query's vector by `model`, from the cache when it was asked before."""
        return self.query_vectors.get(
            model, text, lambda t: self.indexes.encoder(model).encode([t])[0]
        )

    # -- keeping up with writers in other processes ------------------------------------------
    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_EVERY:
            return
        with self._lock:
            self._checked = now
            stamp = self.indexes.stamp()
            if stamp != self._stamp or force:
                self.indexes = self.indexes.reopened()
                self._stamp = stamp

    def clear_caches(self) -> None:
        """Forget cached query vectors and similar() rankings (they also expire by themselves
        when the indexes change)."""
        with self._lock:
            self._similar.clear()
        self.query_vectors = QueryVectors(self.query_vectors.size)

    # -- the interface -----------------------------------------------------------------------
    def search(
        self,
        query: str,
        filters: Filters | None = None,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
        highlight: bool = True,
    ) -> SearchResult:
        """`highlight=False` skips the match spans (topic alerts need only the ranking)."""
        self.refresh()
        q = parse_query(query)
        _merge_filters(q, filters)
        notes = list(q.notes)
        if sort not in SORTS:
            notes.append(f"sort {sort!r} is not known; sorted by relevance")
            sort = "relevance"
        if sort == "relevance" and q.sort:
            sort = q.sort
        limit = max(1, min(int(limit or 20), MAX_LIMIT))
        offset = max(0, min(int(offset or 0), MAX_OFFSET))
        first, missing = self._papers_by_id(q)
        notes += missing
        if not (q.has_text or q.has_filters or q.excluded):
            if first:
                return SearchResult(first[offset : offset + limit], len(first), _message(notes))
            notes.append("type a few words, an author (author:hinton) or an arXiv id")
            return SearchResult([], 0, _message(notes))
        try:
            if sort == "relevance" and q.has_text:
                ranking = self.rank(q, k=max(CANDIDATES, offset + limit))
            else:
                ranking = self._sorted(q, sort, offset + limit, notes)
        except (EncoderError, KeywordIndexError) as exc:
            log.error("search failed for %r: %s", query, exc)
            return SearchResult(first, len(first), f"search is unavailable: {exc}")
        if sort == "relevance" and q.has_text and not ranking.keyword and ranking.ranked:
            # Nothing holds the words (a typo, a name we don't have): say so, and show what is
            # nearest in meaning rather than pretending those papers match.
            notes.append("no paper contains these words; showing the closest by meaning")
        shown = {h.paper.id for h in first}
        ranked = [(pid, s) for pid, s in ranking.ranked if pid not in shown]
        page = ranked[offset : offset + limit]
        hits = first[offset : offset + limit] if offset < len(first) else []
        hits += self._hits(page[: max(0, limit - len(hits))], q, ranking, highlight)
        total = ranking.total + len(first)
        if not hits and not notes:
            notes.append("no paper matched; try fewer or other words")
        return SearchResult(hits, total, _message(notes))

    def similar(self, paper_id: str, limit: int = 5) -> list[Hit]:
        """The papers nearest to this one, itself excluded: its vector neighbours fused with
        BM25 over its own title and abstract (measured better than either alone)."""
        self.refresh()
        paper = self.store.papers.get(paper_id)
        if paper is None:
            return []
        limit = max(1, min(int(limit or 5), MAX_LIMIT))
        key = (paper.id, limit)
        with self._lock:
            if self._similar_stamp != self._stamp:
                self._similar.clear()
                self._similar_stamp = self._stamp
            ranked = self._similar.get(key)
        if ranked is None:
            ranked = self._similar_ranking(paper, limit)
            with self._lock:
                self._similar[key] = ranked
                while len(self._similar) > SIMILAR_CACHE_SIZE:
                    self._similar.popitem(last=False)
        papers = self.store.papers.get_many([pid for pid, _ in ranked])
        return [Hit(papers[pid], score, why="similar") for pid, score in ranked if pid in papers]

    def _similar_ranking(self, paper: Paper, limit: int) -> list[tuple[str, float]]:
        k = max(CANDIDATES, limit + 1)
        neighbours: dict[str, float] = {}
        for vectors in self._vector_sets():
            vec = vectors.vector(paper.id)
            if vec is None:
                vec = self.indexes.encoder(vectors.model).encode([paper_text(paper)])[0]
            part = {
                pid: s
                for pid, s in vectors.search(vec, k + 1)
                if pid != paper.id and pid not in neighbours
            }
            neighbours.update(min_max(part))
        keyword: dict[str, float] = {}
        if SIMILAR_KEYWORD_WEIGHT > 0:
            found, _ = self.indexes.keyword.search(prose_query(paper_text(paper)), limit=k + 1)
            keyword = {pid: s for pid, s in found if pid != paper.id}
        return fuse_scores(keyword, neighbours, SIMILAR_KEYWORD_WEIGHT)[:limit]

    # -- ranking -----------------------------------------------------------------------------
    def rank(self, q: ParsedQuery, k: int = CANDIDATES, mode: str = "hybrid") -> Ranking:
        """Fused ranking of the top candidates; `mode` "keyword" or "semantic" ranks by one."""
        keyword_hits: list[tuple[str, float]] = []
        total = 0
        semantic_wanted = mode != "keyword" and q.has_text
        nearest: Future[list[Nearest]] | None = None
        if semantic_wanted and mode != "semantic" and self._search_at_once():
            nearest = self._thread_pool().submit(self._nearest, q, k)
        if mode != "semantic":
            keyword_hits, total = self.indexes.keyword.search(q, limit=k)
        keyword = dict(keyword_hits)
        semantic: dict[str, float] = {}
        semantic_top: set[str] = set()
        models: dict[str, str] = {}
        if semantic_wanted:
            found = nearest.result() if nearest is not None else self._nearest(q, k)
            semantic, semantic_top, models = self._semantic(found, k, extra=list(keyword))
        if mode == "keyword":
            ranked = keyword_hits
        elif mode == "semantic":
            ranked = sorted(((p, semantic[p]) for p in semantic_top), key=lambda x: -x[1])
            total = len(ranked)
        else:
            weights = self._fusion_weights(models, query_words(q.text))
            ranked = fuse_scores(keyword, semantic, *weights)
            total = max(total, len(ranked))
        return Ranking(ranked, total, keyword, semantic, semantic_top, models)

    def _search_at_once(self) -> bool:
        """Whether the nearest papers are worth looking up beside the keyword search."""
        return self.indexes.searches_at_once and any(
            len(v) >= SEARCH_AT_ONCE_FROM for v in self._vector_sets()
        )

    def _thread_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(4, thread_name_prefix="paperboy-nearest")
            return self._threads

    def _fusion_weights(self, models: dict[str, str], words: int) -> tuple[float, dict[str, float]]:
        """The keyword weight for papers without a cosine (that of the vectors covering most
        papers), and one per paper ranked with some model's vectors (tuned per model, for
        a query of `words` words and for the backend's keyword ranking)."""
        setting, ranking = self.settings.search_keyword_weight, self.indexes.keyword_ranking
        sets = self._vector_sets()
        default = keyword_weight_for(sets[-1].model if sets else "", setting, words, ranking)
        by_model = {v.model: keyword_weight_for(v.model, setting, words, ranking) for v in sets}
        return default, {pid: by_model[m] for pid, m in models.items() if m in by_model}

    def _nearest(self, q: ParsedQuery, k: int) -> list[Nearest]:
        """Each vector set's papers nearest to the query that satisfy its phrases, filters
        and exclusions (up to 5k of them when it has such constraints, else k), with the query
        vector: what the semantic side finds without the keyword side."""
        found = []
        oversample = 5 if has_constraints(q) else 1
        for vectors in self._vector_sets():
            vec = self.query_vector(vectors.model, q.text)
            near = vectors.search(vec, k * oversample)
            if has_constraints(q):
                ok = self.indexes.keyword.allowed_ids(q, [pid for pid, _ in near])
                near = [(pid, s) for pid, s in near if pid in ok]
            found.append(Nearest(vectors, vec, near))
        return found

    def _semantic(
        self, nearest: list[Nearest], k: int, extra: list[str]
    ) -> tuple[dict[str, float], set[str], dict[str, str]]:
        """Normalised semantic scores for the top-k of `nearest` and for `extra`."""
        scores: dict[str, float] = {}
        top: set[str] = set()
        models: dict[str, str] = {}
        for vectors, vec, near in nearest:
            found = [(pid, s) for pid, s in near if pid not in scores][:k]
            part = dict(found)
            others = [pid for pid in extra if pid not in scores and pid not in part]
            part |= vectors.scores(vec, others)
            if vectors is self.indexes.dense and self.indexes.passages is not None:
                part = self._rescore_with_passages(vec, part)
            # Each model's cosines are on their own scale: normalise before pooling.
            scores.update(min_max(part))
            models.update(dict.fromkeys(part, vectors.model))
            top.update(pid for pid, _ in found)
        return scores, top, models

    def _rescore_with_passages(self, vec: np.ndarray, scores: dict[str, float]) -> dict[str, float]:
        """Mean of the whole-abstract cosine and the best passage's: a paper whose one
        paragraph answers the query rises (measured on SciFact, docs/benchmarks.md)."""
        keys = [passage_id(pid, k) for pid in scores for k in range(MAX_PASSAGES)]
        best: dict[str, float] = {}
        assert self.indexes.passages is not None  # called only when there are passages
        for key, score in self.indexes.passages.scores(vec, keys).items():
            pid = key.rsplit("#", 1)[0]
            best[pid] = max(best.get(pid, -1.0), score)
        return {pid: (s + best[pid]) / 2 if pid in best else s for pid, s in scores.items()}

    def _vector_sets(self) -> list[VectorIndex]:
        dense, bulk = self.indexes.dense, self.indexes.bulk
        sets = [dense] if len(dense) else []
        if bulk is not None and len(bulk) > len(dense):
            sets.append(bulk)  # papers not yet upgraded to transformer vectors
        return sets

    def _sorted(self, q: ParsedQuery, sort: str, k: int, notes: list[str]) -> Ranking:
        by = sort if sort != "relevance" else "date"
        found, total = self.indexes.keyword.search(q, limit=k, sort=by, conjunction=True)
        if total or not q.has_text:
            return Ranking(found, total, dict(found))
        notes.append(f"no paper has all the words; showing the closest, sorted by {by}")
        ranking = self.rank(q, CANDIDATES)
        papers = self.store.papers.get_many([pid for pid, _ in ranking.ranked])
        key = (lambda p: p.upvotes or 0) if by == "upvotes" else _day_key
        ranking.ranked = sorted(
            ((pid, s) for pid, s in ranking.ranked if pid in papers),
            key=lambda item: key(papers[item[0]]),
            reverse=True,
        )
        return ranking

    # -- results -----------------------------------------------------------------------------
    def _papers_by_id(self, q: ParsedQuery) -> tuple[list[Hit], list[str]]:
        hits: list[Hit] = []
        notes: list[str] = []
        for arxiv in q.arxiv_ids:
            paper = self.store.papers.get(arxiv.id)
            if paper is None:
                notes.append(f"{arxiv.id} is not in this paperboy yet")
            elif all(h.paper.id != paper.id for h in hits):
                hits.append(Hit(paper, 1.0, why="arXiv id"))
        return hits, notes

    def _hits(
        self,
        page: list[tuple[str, float]],
        q: ParsedQuery,
        ranking: Ranking,
        highlight: bool = True,
    ) -> list[Hit]:
        papers = self.store.papers.get_many([pid for pid, _ in page])
        terms = query_terms(q) if highlight else set()
        hits = []
        for pid, score in page:
            paper = papers.get(pid)
            if paper is None:
                continue  # indexed but no longer stored; the next update drops it
            hits.append(
                Hit(
                    paper,
                    float(score),
                    match_spans(paper.title, terms),
                    match_spans(paper.abstract, terms),
                    _why(pid, ranking),
                    matched=pid in ranking.keyword or pid not in ranking.semantic_top,
                )
            )
        return hits


def _why(pid: str, ranking: Ranking) -> str:
    in_kw, in_sem = pid in ranking.keyword, pid in ranking.semantic_top
    if in_kw and in_sem:
        return "keyword + semantic"
    if in_sem:
        return "semantic"
    return "keyword"


def _day_key(paper: Paper) -> int:
    return day_number(paper_day(paper))


def _merge_filters(q: ParsedQuery, filters: Filters | None) -> None:
    if filters is None:
        return
    q.categories += [c for c in filters.categories if c not in q.categories]
    q.authors += [a for a in filters.authors if a not in q.authors]
    if filters.date_from:
        q.date_from = max(filter(None, (q.date_from, filters.date_from)))
    if filters.date_to:
        q.date_to = min(filter(None, (q.date_to, filters.date_to)))
    if filters.has_code is not None:
        q.has_code = filters.has_code


def _message(notes: list[str]) -> str | None:
    unique = list(dict.fromkeys(notes))
    return "; ".join(unique) if unique else None
