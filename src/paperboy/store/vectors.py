"""Vectors kept in the store, so that each paper is encoded once for every host (issue #16).

    kept = StoredVectors(store)
    kept.put("minilm", ["2405.15738"], [hash_], matrix)   # after encoding
    kept.get("minilm", [("2405.15738", hash_)])            # {id: vector}, where the hash matches
    with kept.encoding():                                  # one encoder at a time, on all hosts
        ...

With PostgreSQL as the store and the search indexes in files on every web host
(`search_backend = "files"`), each host's index follows the store by itself (search/follow.py).
Encoding is the expensive part of that, so the first process to encode a paper keeps the vector
here (float16 bytes in table `stored_vectors`, migration 0015: no extension needed) and the
others read it instead of encoding it again. A vector is valid only for the text it was computed
from: rows carry that text's hash, and a row whose hash differs is ignored (and overwritten by
the next encoder). `model` is the weights' identity (encoders.vectors_identity), so a new static
table never serves the old table's vectors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from paperboy.store.chunks import in_chunks

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

ENCODING_LOCK = 0x7EC7_0001  # advisory lock key: one encoder at a time across hosts
_DTYPE = np.dtype("<f2")


class StoredVectors:
    """The table `stored_vectors` of one store."""

    def __init__(self, store: SQLStore):
        self.store = store

    @contextmanager
    def encoding(self) -> Iterator[None]:
        """Held while a process looks for missing vectors, encodes them and keeps them: a
        second host waits here and then finds them kept, so no paper is encoded twice."""
        with self.store.advisory_lock(ENCODING_LOCK):
            yield

    def get(self, model: str, wanted: Sequence[tuple[str, int]]) -> dict[str, np.ndarray]:
        """The kept vectors (float32) of these (item id, text hash) pairs whose hash matches."""
        hashes = dict(wanted)
        found: dict[str, np.ndarray] = {}
        for chunk, marks in in_chunks(list(hashes)):
            rows = self.store.conn.execute(
                f"SELECT item_id, hash, vector FROM stored_vectors "
                f"WHERE model = ? AND item_id IN ({marks})",
                [model, *chunk],
            ).fetchall()
            for item, h, data in rows:
                if int(h) == hashes[item]:
                    found[item] = np.frombuffer(bytes(data), _DTYPE).astype(np.float32)
        return found

    def passages(
        self, model: str, owners: Sequence[tuple[str, int]], most: int
    ) -> list[tuple[str, int, np.ndarray]]:
        """The kept passages ("id#k", k < most) of these (paper id, text hash) pairs whose
        hash matches: (paper id, k, vector), in paper then k order."""
        wanted = [(f"{pid}#{k}", h) for pid, h in owners for k in range(most)]
        found = self.get(model, wanted)
        out = []
        for pid, _ in owners:
            for k in range(most):
                vector = found.get(f"{pid}#{k}")
                if vector is not None:
                    out.append((pid, k, vector))
        return out

    def put(
        self, model: str, ids: Sequence[str], hashes: Sequence[int], vectors: np.ndarray
    ) -> None:
        """Keep these vectors (replacing any kept for the same items)."""
        if not len(ids):
            return
        rows = [
            (model, str(item), int(h), np.asarray(row, np.float32).astype(_DTYPE).tobytes())
            for item, h, row in zip(ids, hashes, vectors)
        ]
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO stored_vectors (model, item_id, hash, vector) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (model, item_id) DO UPDATE SET hash = excluded.hash, "
                "vector = excluded.vector",
                rows,
            )

    def count(self, model: str) -> int:
        return int(
            self.store.conn.execute(
                "SELECT count(*) FROM stored_vectors WHERE model = ?", (model,)
            ).fetchone()[0]
        )
