"""The contract every search backend keeps: what the engine and the updater may ask of it.

    indexes: IndexSet = open_indexes(store, settings)      # search/upkeep.py picks the backend
    ids, total = indexes.keyword.search(parse_query("sparse attention"), limit=100)
    indexes.dense.search(indexes.encoder(indexes.dense.model).encode(["..."])[0], k=100)

Two backends implement it: files beside the store (`search/files/`: tantivy and numpy/usearch
vector files) and PostgreSQL tables (`search/postgres/`: tsvector and pgvector). The engine
(engine.py) is written against these Protocols only, so both are searched, filtered and fused
the same way; the updater (updater.py) fills either from the store through the same calls.
The Protocols are structural: a backend need not inherit from them, only answer the calls
(`tests/test_search_backends.py` checks both against them).

Also here, because every backend stores them the same way: a paper's day (`paper_day`,
`day_number`) and the error a keyword index raises when it cannot be used.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from paperboy.config import Settings
from paperboy.papers import Paper

if TYPE_CHECKING:
    from paperboy.search.query import ParsedQuery
    from paperboy.store.sql import SQLStore

_EPOCH = date(1970, 1, 1).toordinal()


class KeywordIndexError(RuntimeError):
    """The keyword index cannot be opened or written; the message says what to do."""


def day_number(day: date | None) -> int:
    """Days since 1970-01-01 (0 when unknown): what a keyword index stores as a paper's day."""
    return day.toordinal() - _EPOCH if day else 0


def paper_day(paper: Paper) -> date | None:
    """The date a paper is filtered and sorted by: announced, else first submitted."""
    return (
        paper.announced
        or paper.published
        or paper.updated
        or (paper.entry.day if paper.entry else None)
    )


@runtime_checkable
class KeywordIndex(Protocol):
    """Words of title, abstract and authors, ranked (BM25 or the like), with the filters.

    Writes may be buffered: `add` and `remove` take effect for readers at `commit()`, and
    `rollback()` drops what was not committed. (A backend that writes through at once, as
    the PostgreSQL tables do, has nothing pending at either.)"""

    def add(self, papers: Iterable[Paper]) -> int: ...  # added or replaced
    def remove(self, ids: Iterable[str]) -> None: ...
    def clear(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def count(self) -> int: ...
    def all_ids(self) -> list[str]: ...

    def search(
        self,
        q: ParsedQuery,
        limit: int = 100,
        offset: int = 0,
        sort: str = "relevance",
        conjunction: bool = False,
    ) -> tuple[list[tuple[str, float]], int]:
        """Ranked (paper id, score), and how many matched."""
        ...

    def allowed_ids(self, q: ParsedQuery, ids: list[str]) -> set[str]:
        """Which of `ids` satisfy the query's phrases, filters and exclusions."""
        ...


@runtime_checkable
class VectorIndex(Protocol):
    """One embedding model's unit vectors, one per paper (or passage), searched by cosine.

    `put` writes at once or buffers until `save`; `save(watermark)` makes the rows durable
    first and then records the watermark that vouches for them."""

    model: str
    dim: int

    @property
    def watermark(self) -> int: ...
    def put(self, ids: list[str], vectors: np.ndarray, hashes: Any = None) -> None: ...
    def put_quantized(
        self, ids: list[str], codes: np.ndarray, scales: np.ndarray, hashes: Any
    ) -> None: ...
    def remove(self, ids: Iterable[str]) -> None: ...
    def clear(self) -> None: ...
    def save(self, watermark: int | None = None) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, pid: str) -> bool: ...
    def id_set(self) -> set[str]: ...

    def stale(self, pairs: list[tuple[str, int]]) -> set[str]:
        """Which papers have no vector, or one computed from another text (by its hash)."""
        ...

    def vector(self, pid: str) -> np.ndarray | None: ...
    def scores(self, query: np.ndarray, ids: list[str]) -> dict[str, float]: ...
    def search(self, query: np.ndarray, k: int = 100) -> list[tuple[str, float]]: ...


@runtime_checkable
class Encoder(Protocol):
    """A loaded embedding model (search/encoders.py)."""

    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class PassageEncoder(Encoder, Protocol):
    """An encoder that also reads a text as passages (its sentences), for re-scoring."""

    def encode_passages(
        self, texts: list[str], max_passages: int = 16
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def encode_with_passages(
        self, texts: list[str], max_passages: int = 16
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@runtime_checkable
class IndexSet(Protocol):
    """One deployment's search indexes: the keyword index, the transformer's vectors
    (`dense`), the static model's (`bulk`, optional) and passages (sentences)
    (optional, only scored), with the models that fill them."""

    settings: Settings
    keyword: KeywordIndex
    dense: VectorIndex
    bulk: VectorIndex | None
    passages: VectorIndex | None
    searches_at_once: bool  # keyword and vector search may run in two threads at once
    keyword_ranking: str  # "bm25" or "ts_rank": the fusion's weights depend on it

    def encoder(self, model: str) -> Encoder: ...

    def reopened(self) -> IndexSet:
        """These indexes as saved now (another process may have written them)."""
        ...

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever another process saved the indexes and readers must reopen them."""
        ...

    def writing(self, wait: bool = True) -> AbstractContextManager[bool]:
        """Held while updating: one writer at a time across processes; yields whether held."""
        ...

    def behind(self, store: SQLStore) -> bool:
        """True when the store changed since some index was last updated."""
        ...
