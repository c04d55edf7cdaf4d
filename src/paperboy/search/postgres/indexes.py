"""The search indexes as PostgreSQL tables, for `search_backend = "postgres"`.

    indexes = PgSearchIndexes(store, settings)    # upkeep.open_indexes() picks it for Postgres
    with indexes.writing():
        indexes.update(store)                     # the same updater as the file indexes

Every web host of a scale-out deployment then searches the same index, and a paper submitted
through one host is found through every other at once: there are no index files to copy or
keep in step per host. What is stored where (tables.py): the keyword index in `paper_search`
(tsvector, GIN), each model's vectors in `paper_vectors` (pgvector halfvec, a partial HNSW
index per model), passages there too under the model name + "#passages". Watermarks live in
the store's `state` table, written after the rows they vouch for, so a crash redoes work
rather than losing it (as with the files). One writer at a time across hosts: the store's
advisory lock instead of the file lock. The updating itself is the shared one
(search/updater.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from paperboy.config import Settings
from paperboy.search.backends import Encoder
from paperboy.search.encoders import supports_passages, vectors_identity
from paperboy.search.postgres.tables import PgKeywordIndex, PgVectors, ensure_vector_table
from paperboy.search.updater import SearchIndexes, UpdateReport
from paperboy.store.postgres import PostgresStore

LOCK_INDEXES = 7_243_003  # advisory lock id (store/postgres.py holds 7_243_001 and 002)
_KEYWORD_WATERMARK = "search:keyword:watermark"
ANALYZE_AFTER = 1000  # papers (re)indexed in one update before the statistics are refreshed


class PgSearchIndexes(SearchIndexes):
    """The keyword index and the vector indexes of one PostgreSQL database."""

    searches_at_once = True  # each statement borrows its own pooled connection
    keyword_ranking = "ts_rank"  # idf x ts_rank (tables.py), not BM25

    keyword: PgKeywordIndex
    dense: PgVectors
    bulk: PgVectors | None
    passages: PgVectors | None

    def __init__(
        self, store: PostgresStore, settings: Settings, encoders: dict[str, Encoder] | None = None
    ):
        self.settings = settings
        self.store = store
        self._encoders = encoders if encoders is not None else {}
        ensure_vector_table(store)
        self.keyword = PgKeywordIndex(store)
        self.dense = self._vectors(settings.search_model)
        self.bulk = (
            self._vectors(settings.search_bulk_model) if settings.search_bulk_model else None
        )
        self.passages = None
        if settings.search_passages and supports_passages(settings.search_model):
            self.passages = PgVectors(
                store, settings.search_model + "#passages", self.dense.dim, indexed=False
            )

    def _vectors(self, model: str) -> PgVectors:
        vectors = PgVectors(self.store, model, self._dim(model))
        vectors.follow_weights(vectors_identity(model))
        return vectors

    def _dim(self, model: str) -> int:
        """The model's width, remembered in `state` so opening needs no model loaded."""
        key = f"search:vectors:{model}:dim"
        known = self.store.get_state(key)
        if known:
            return int(known)
        dim = self.encoder(model).dim
        self.store.set_state(key, str(dim))
        return dim

    def reopened(self) -> PgSearchIndexes:
        """The same object: reads always see the committed rows, there is nothing to load."""
        return self

    def stamp(self) -> tuple[int, ...]:
        """Never moves: readers query the tables, which are always current."""
        return ()

    def writing(self, wait: bool = True) -> AbstractContextManager[bool]:
        return writers_lock(self.store, wait)

    def _keyword_updated(self, report: UpdateReport) -> None:
        if report.keyword >= ANALYZE_AFTER:  # a bulk load: the word statistics changed
            self.keyword.analyze()

    # -- watermarks --------------------------------------------------------------------------
    @property
    def keyword_watermark(self) -> int:
        return int(self.store.get_state(_KEYWORD_WATERMARK, "0") or 0)

    def _set_keyword_watermark(self, seq: int) -> None:
        self.store.set_state(_KEYWORD_WATERMARK, str(int(seq)))


def writers_lock(store: PostgresStore, wait: bool = True) -> AbstractContextManager[bool]:
    """One index writer at a time across every host (the store's advisory lock, held for the
    whole update). Yields whether it is held (see files.writing_indexes, its twin for files)."""
    return store.advisory_lock(LOCK_INDEXES, wait)
