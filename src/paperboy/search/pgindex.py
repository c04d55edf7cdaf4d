"""The search indexes as PostgreSQL tables, for `search_backend = "postgres"`.

    indexes = PgSearchIndexes(store, settings)    # open_indexes() picks it for a Postgres store
    with indexes.writing():
        indexes.update(store)                     # the same updater as the file indexes

Every web host of a scale-out deployment then searches the same index, and a paper submitted
through one host is found through every other at once: there are no index files to copy or
keep in step per host. What is stored where (store/pgsearch.py): the keyword index in
`paper_search` (tsvector, GIN), each model's vectors in `paper_vectors` (pgvector halfvec,
a partial HNSW index per model), passages there too under the model name + "#passages".
Watermarks live in the store's `state` table, written after the rows they vouch for, so a
crash redoes work rather than losing it (as with the files). One writer at a time across
hosts: a PostgreSQL advisory lock instead of the file lock.
"""

from __future__ import annotations

from contextlib import contextmanager

from paperboy.config import Settings
from paperboy.search.encoders import supports_passages
from paperboy.search.index import SearchIndexes
from paperboy.store.pgsearch import PgKeywordIndex, PgVectors, ensure_vector_table

_LOCK_INDEXES = 7_243_003  # advisory lock id (store/postgres.py holds 7_243_001 and 002)
_KEYWORD_WATERMARK = "search:keyword:watermark"
ANALYZE_AFTER = 1000  # papers (re)indexed in one update before the statistics are refreshed


class PgSearchIndexes(SearchIndexes):
    def __init__(self, store, settings: Settings, encoders=None):
        self.settings = settings
        self.store = store
        self.folder = None
        self._encoders = encoders if encoders is not None else {}
        ensure_vector_table(store)
        self.keyword = PgKeywordIndex(store)
        self.dense = self._vectors(settings.search_model)
        self.bulk = self._vectors(settings.search_bulk_model) if settings.search_bulk_model \
            else None
        self.passages = None
        if settings.search_passages and supports_passages(settings.search_model):
            self.passages = PgVectors(store, settings.search_model + "#passages",
                                      self.dense.dim, indexed=False)

    def _vectors(self, model: str) -> PgVectors:
        return PgVectors(self.store, model, self._dim(model))

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
        return self  # reads always see the committed tables; nothing to reload

    def writing(self, wait: bool = True):
        return advisory_lock(self.store, wait)

    def _keyword_updated(self, report) -> None:
        if report.keyword >= ANALYZE_AFTER:  # a bulk load: the word statistics changed
            self.keyword.analyze()

    # -- watermarks --------------------------------------------------------------------------
    @property
    def keyword_watermark(self) -> int:
        return int(self.store.get_state(_KEYWORD_WATERMARK, "0"))

    def _set_keyword_watermark(self, seq: int) -> None:
        self.store.set_state(_KEYWORD_WATERMARK, str(int(seq)))

    def stamp(self) -> tuple:
        return ()


@contextmanager
def advisory_lock(store, wait: bool = True):
    """One index writer at a time across every host: a session-level advisory lock, held on
    one pooled connection for the whole update. Yields whether it is held (see
    search.index.writing_indexes, its twin for index files)."""
    with store._pool.connection() as conn:
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_INDEXES,))
            got = True
        else:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)",
                               (_LOCK_INDEXES,)).fetchone()[0]
        try:
            yield got
        finally:
            if got:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_INDEXES,))


def carry_vectors(data_dir, store, settings: Settings, on_progress=None) -> dict[str, int]:
    """Copy the vector files of an embedded deployment (`data_dir/index/vectors/`) into the
    PostgreSQL tables, so moving to PostgreSQL does not mean encoding every paper again
    (hours with the transformer). Each model's watermark comes along (the papers' `seq`
    values are copied unchanged by migrate-store), so the updater then adds only what is
    newer. Idempotent: a rerun after an interruption puts the same rows again. Returns the
    rows copied per model; the keyword index is rebuilt from the store (no model needed)."""
    from pathlib import Path

    from paperboy.search.index import _slug
    from paperboy.search.semantic import VectorIndex, dequantize

    tables = PgSearchIndexes(store, settings)
    targets = [tables.dense] + [v for v in (tables.bulk, tables.passages) if v is not None]
    copied = {}
    for target in targets:
        folder = Path(data_dir) / "index" / "vectors" / _slug(target.model.replace(
            "#passages", "-passages"))
        source = VectorIndex.open(folder, target.dim, target.model) if \
            (folder / "meta.json").exists() else None
        if source is None or not len(source):
            continue
        ids = [pid for pid in source.ids if pid in source]
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            rows = [source.row[pid] for pid in part]
            target.put(part, dequantize(source.codes[rows], source.scales[rows]),
                       source.hashes[rows])
            if on_progress:
                on_progress(target.model, start + len(part))
        target.save(watermark=source.watermark if not target.model.endswith("#passages")
                    else None)
        copied[target.model] = len(ids)
    return copied
