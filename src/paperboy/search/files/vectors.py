"""The vector index: one unit vector per paper, stored as int8, searched by cosine.

    vectors = VectorIndex.open(folder, dim=384)
    vectors.put(["2405.15738"], encoder.encode([text])); vectors.save(watermark=seq)
    vectors.search(query_vector, k=100)           # [(paper id, cosine)], best first

On disk (beside the store): `vectors-N.npy` (int8, one row a paper, each row scaled so its
largest component is 127), `scales-N.npy` (float32, the row's scale), `hashes-N.npy` (a hash
of the text each row was computed from, so a paper whose upvotes change is not re-encoded),
`ids-N.json`, and `meta.json` (model, dim, watermark, and the generation N it vouches for).
Each save writes a new generation, then `meta.json` atomically, then removes the old one: a
crash (even kill -9) at any point leaves one whole generation and its watermark, and the next
update redoes only the lost work. (Folders written before generations, with plain
`vectors.npy` ..., are read as generation 0.)

Search is exact (numpy, float32 copy in memory) up to `exact_limit` rows; beyond it an HNSW
graph (usearch, float16) answers, measured in bench/search_latency.py. In a bulk update the
graph grows in a thread of its own while the next vectors are encoded (`growing_graph`).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from usearch.index import Index

EXACT_LIMIT = 50_000  # rows; above it the HNSW graph is used (see docs/benchmarks.md)


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows to int8 with one float32 scale each (cosine error below 0.005)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0, np.float32)
    peak[peak == 0] = 1.0
    scales = (peak / 127.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def dequantize(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    rows: np.ndarray = codes.astype(np.float32) * scales[:, None]
    return rows


def _append(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`array` followed by `rows`, growing the buffer underneath by doubling, so a bulk import
    adding 2,000 rows at a time copies each row a few times, not once per batch."""
    base = array.base
    n, extra = len(array), len(rows)
    if (
        type(array) is np.ndarray
        and type(base) is np.ndarray
        and base.ndim == array.ndim
        and base.shape[1:] == array.shape[1:]
        and len(base) >= n + extra
        and base.ctypes.data == array.ctypes.data
        and base.flags.writeable
    ):
        base[n : n + extra] = rows  # room left in our own buffer: `array` is its first n rows
        return base[: n + extra]
    grown = np.empty((max(2 * n, n + extra, 1024),) + array.shape[1:], dtype=array.dtype)
    grown[:n] = array
    grown[n : n + extra] = rows
    return grown[: n + extra]


def _files(folder: Path, generation: int) -> dict[str, Path]:
    """The data files of one saved generation (0: the names used before generations)."""
    tag = f"-{generation}" if generation else ""
    return {
        "vectors": folder / f"vectors{tag}.npy",
        "scales": folder / f"scales{tag}.npy",
        "hashes": folder / f"hashes{tag}.npy",
        "ids": folder / f"ids{tag}.json",
    }


def saved_generation(folder: Path) -> int:
    """The generation the folder's `meta.json` vouches for (0: none, or unreadable)."""
    try:
        return int(json.loads((folder / "meta.json").read_text()).get("generation", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def _atomic_save(path: Path, write: Callable[[BinaryIO], object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class VectorIndex:
    def __init__(
        self,
        folder: Path | None,
        dim: int,
        model: str = "",
        exact_limit: int = EXACT_LIMIT,
        weights: str = "",
    ):
        self.folder = Path(folder) if folder else None
        self.dim = dim
        self.model = model
        self.weights = weights or model  # what made the vectors (encoders.vectors_identity)
        self.exact_limit = exact_limit
        self.ids: list[str] = []
        self.row: dict[str, int] = {}
        self.codes = np.zeros((0, dim), dtype=np.int8)
        self.scales = np.zeros(0, dtype=np.float32)
        self.hashes = np.zeros(0, dtype=np.int64)
        self.watermark = 0
        self.generation = 0  # of the files on disk (see the module docstring)
        self._dense: np.ndarray | None = None  # float32 copy for exact search
        self._graph: Index | None = None  # usearch HNSW past exact_limit; kept in step
        self._changed_rows: set[int] = set()  # rows rewritten since the graph was saved
        self._graph_stale = False  # rows renumbered (compaction): rebuild the graph
        self._graph_lock = threading.Lock()
        self._growing = self._grow_now = False  # see growing_graph()
        self._graph_shared: Callable[[], bool] | None = None  # likewise
        self._graph_feed: ThreadPoolExecutor | None = None
        self._graph_jobs: deque[Future[None]] = deque()
        self._deleted = np.zeros(0, dtype=bool)
        self._hidden = 0  # rows marked deleted: _deleted.sum(), kept (2 ms a search at 2.7M)

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        folder: Path | None,
        dim: int,
        model: str = "",
        exact_limit: int = EXACT_LIMIT,
        weights: str = "",
    ) -> VectorIndex:
        index = cls(folder, dim, model, exact_limit, weights)
        if folder is None:
            return index
        meta_path = Path(folder) / "meta.json"
        if not meta_path.exists():
            return index
        meta = json.loads(meta_path.read_text())
        if meta.get("dim") != dim or (model and meta.get("model") != model):
            return index  # another model's vectors: start over (the caller rebuilds)
        if weights and meta.get("weights", meta.get("model")) != weights:
            return index  # made by other weights of this model (a new static table): re-encode
        files = _files(Path(folder), int(meta.get("generation", 0)))
        try:
            ids = json.loads(files["ids"].read_text())
            # Memory-mapped copy-on-write: rows only read (passages, HNSW-served indexes)
            # stay on disk until touched; writes go to private memory until `save()`.
            codes = np.load(files["vectors"], mmap_mode="c")
            scales = np.load(files["scales"])
            hashes = np.load(files["hashes"])
        except (OSError, ValueError):
            return index  # missing or torn files: rebuild
        if not len(ids) == len(codes) == len(scales) == len(hashes):
            return index  # torn files: rebuild
        index.ids, index.codes, index.scales, index.hashes = ids, codes, scales, hashes
        index.row = {pid: i for i, pid in enumerate(ids)}
        index.watermark = int(meta.get("watermark", 0))
        index.generation = int(meta.get("generation", 0))
        index._deleted = np.zeros(len(ids), dtype=bool)
        index._hidden = 0
        return index

    def save(self, watermark: int | None = None) -> None:
        if watermark is not None:
            self.watermark = watermark
        if self.folder is None:
            return
        self._compact()
        self.folder.mkdir(parents=True, exist_ok=True)
        generation = max(self.generation, saved_generation(self.folder)) + 1
        files = _files(self.folder, generation)
        _atomic_save(files["vectors"], lambda fh: np.save(fh, self.codes))
        _atomic_save(files["scales"], lambda fh: np.save(fh, self.scales))
        _atomic_save(files["hashes"], lambda fh: np.save(fh, self.hashes))
        _atomic_save(files["ids"], lambda fh: fh.write(json.dumps(self.ids).encode()))
        meta = {
            "model": self.model,
            "weights": self.weights,
            "dim": self.dim,
            "count": len(self.ids),
            "watermark": self.watermark,
            "format": "int8+scale",
            "generation": generation,
        }
        _atomic_save(self.folder / "meta.json", lambda fh: fh.write(json.dumps(meta).encode()))
        self.generation = generation
        for old in range(generation - 1, -1, -1):  # older generations, now unreferenced
            paths = [p for p in _files(self.folder, old).values() if p.exists()]
            if not paths and old < generation - 1:
                break
            for path in paths:
                path.unlink(missing_ok=True)  # an open memory map keeps its data
        if self.uses_graph:
            self._sync_graph()  # now, so no query pays for building it

    # -- writing -----------------------------------------------------------------------------
    def put(self, ids: list[str], vectors: np.ndarray, hashes: Any = None) -> None:
        """Add or replace the vectors of these papers (`hashes`: of the texts, see `needs`)."""
        if not len(ids):
            return
        codes, scales = quantize(vectors)
        hashes = np.zeros(len(ids), np.int64) if hashes is None else np.asarray(hashes, np.int64)
        new_rows = []
        for i, pid in enumerate(ids):
            row = self.row.get(pid)
            if row is None:
                new_rows.append(i)
            else:
                self.codes[row], self.scales[row] = codes[i], scales[i]
                self.hashes[row] = hashes[i]
                self._changed_rows.add(row)
                if self._deleted[row]:
                    self._deleted[row] = False
                    self._hidden -= 1
                if self._dense is not None:
                    self._dense[row] = codes[i].astype(np.float32) * scales[i]
        if new_rows:
            if self._growing:
                self._grow_graph(len(new_rows))
            start = len(self.ids)
            for offset, i in enumerate(new_rows):
                self.ids.append(ids[i])
                self.row[ids[i]] = start + offset
            self.codes = _append(self.codes, codes[new_rows])
            self.scales = _append(self.scales, scales[new_rows])
            self.hashes = _append(self.hashes, hashes[new_rows])
            self._deleted = _append(self._deleted, np.zeros(len(new_rows), bool))
            self._dense = None
            if self._graph_feed is not None:
                self._feed_graph(start, dequantize(codes[new_rows], scales[new_rows]))

    def put_quantized(
        self, ids: list[str], codes: np.ndarray, scales: np.ndarray, hashes: np.ndarray
    ) -> None:
        """Add precomputed rows as they are (the demo corpus ships its vectors this way)."""
        self.put(
            [str(i) for i in ids],
            dequantize(np.asarray(codes, np.int8), np.asarray(scales, np.float32)),
            hashes,
        )

    def remove(self, ids: Iterable[str]) -> None:
        for pid in ids:
            row = self.row.get(pid)
            if row is not None and not self._deleted[row]:
                self._deleted[row] = True
                self._hidden += 1

    def _compact(self) -> None:
        if not self._hidden:
            return
        keep = ~self._deleted
        self.ids = [pid for pid, k in zip(self.ids, keep) if k]
        self.codes, self.scales = self.codes[keep], self.scales[keep]
        self.hashes = self.hashes[keep]
        self._deleted = np.zeros(len(self.ids), dtype=bool)
        self._hidden = 0
        self.row = {pid: i for i, pid in enumerate(self.ids)}
        self._dense, self._graph, self._graph_stale = None, None, True

    def clear(self) -> None:
        self.ids, self.row = [], {}
        self.codes = np.zeros((0, self.dim), dtype=np.int8)
        self.scales = np.zeros(0, dtype=np.float32)
        self.hashes = np.zeros(0, dtype=np.int64)
        self._deleted = np.zeros(0, dtype=bool)
        self._hidden = 0
        self._dense, self._graph, self._graph_stale = None, None, True

    # -- reading -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids) - self._hidden

    def __contains__(self, pid: str) -> bool:
        row = self.row.get(pid)
        return row is not None and not self._deleted[row]

    def needs(self, pid: str, text_hash_: int) -> bool:
        """True when the paper has no vector, or one computed from a different text."""
        row = self.row.get(pid)
        return row is None or bool(self._deleted[row]) or int(self.hashes[row]) != text_hash_

    def stale(self, pairs: list[tuple[str, int]]) -> set[str]:
        """Of these (paper id, text hash) pairs, the papers `needs()` says to encode."""
        return {pid for pid, h in pairs if self.needs(pid, h)}

    def id_set(self) -> set[str]:
        return {pid for pid in self.ids if pid in self}

    def vector(self, pid: str) -> np.ndarray | None:
        row = self.row.get(pid)
        if row is None or self._deleted[row]:
            return None
        vector: np.ndarray = self.codes[row].astype(np.float32) * self.scales[row]
        return vector

    @property
    def dense(self) -> np.ndarray:
        if self._dense is None:
            self._dense = dequantize(self.codes, self.scales)
        return self._dense

    @property
    def uses_graph(self) -> bool:
        return len(self.ids) > self.exact_limit

    def scores(self, query: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Cosine of the query with each of these papers (those that have a vector)."""
        get, deleted = self.row.get, self._deleted
        rows = [(pid, r) for pid in ids if (r := get(pid)) is not None]
        if self._hidden:
            rows = [(pid, r) for pid, r in rows if not deleted[r]]
        if not rows:
            return {}
        idx = np.fromiter((r for _, r in rows), dtype=np.int64, count=len(rows))
        # Scale after the product: one multiply a row, not one a coordinate.
        sims = (self.codes[idx].astype(np.float32) @ query.astype(np.float32)) * self.scales[idx]
        return {pid: float(s) for (pid, _), s in zip(rows, sims)}

    def search(self, query: np.ndarray, k: int = 100) -> list[tuple[str, float]]:
        """The k papers closest to `query` (a unit vector), best first."""
        n = len(self.ids)
        if n == 0 or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.uses_graph:
            return self._graph_search(query, k)
        sims = self.dense @ query
        if self._hidden:
            sims[self._deleted] = -np.inf
        k = min(k, n)
        top = np.argpartition(-sims, k - 1)[:k] if k < n else np.arange(n)
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self.ids[i], float(sims[i])) for i in top if np.isfinite(sims[i])]

    def _graph_search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        with self._graph_lock:  # web requests run in threads; build or load it once
            if (
                self._graph is None
                or self._graph_stale
                or self._changed_rows
                or len(self._graph) < len(self.ids)
            ):
                self._sync_graph(save=False)
        hidden = self._hidden  # removed rows stay in the graph until compaction
        assert self._graph is not None  # synced just above
        matches = self._graph.search(query, min(k + hidden, len(self.ids)))
        found = []
        for key, distance in zip(matches.keys, matches.distances):
            if not self._deleted[int(key)]:
                found.append((self.ids[int(key)], float(1.0 - distance)))
        return found[:k]

    def _new_graph(self) -> Index:
        # onnxruntime must be loaded before usearch: the other order segfaults on import
        # (usearch 2.26 with onnxruntime 1.32; reproduced with two bare imports).
        import onnxruntime  # noqa: F401
        from usearch.index import Index

        # float16 in the graph: its int8 mode assumes components near +-1 and loses most
        # precision on unit vectors (recall@10 0.89 against 0.96 measured at 75k papers).
        # 12 links a node, expansion 40 when adding and 500 when searching: at 150,000
        # papers recall@10 0.968 (0.970 with 16 / 64 / 350, 0.967 with 16 / 128 / 200) in
        # 58-59% of the CPU of 16 / 64 / 350 (two runs), 0.1 ms more a query
        # (bench/hnsw_params.py). The graph's build paces a bulk import's indexing at 2.7M.
        return Index(
            ndim=self.dim,
            metric="cos",
            dtype="f16",
            connectivity=12,
            expansion_add=40,
            expansion_search=500,
        )

    def _graph_plan(self) -> tuple[Index, list[int], int]:
        """The graph to bring up to the rows and what it lacks: (graph, rewritten rows to
        re-add, first row it lacks). The saved graph is loaded when it matches the rows."""
        graph = self._graph
        if (
            graph is None
            and not self._graph_stale
            and self.folder is not None
            and (self.folder / "graph.usearch").exists()
            and (self.folder / "graph.rows").exists()
        ):
            graph_path, stamp_path = self.folder / "graph.usearch", self.folder / "graph.rows"
            graph = self._new_graph()
            graph.load(str(graph_path))
            if len(graph) != int(stamp_path.read_text() or 0) or len(graph) > len(self.ids):
                graph = None
        if graph is None or self._graph_stale:
            return self._new_graph(), [], 0
        return graph, sorted(r for r in self._changed_rows if r < len(graph)), len(graph)

    def _sync_graph(self, save: bool = True) -> None:
        """Bring the HNSW graph up to the rows: load the saved one, add new rows, re-add
        rewritten ones; a full build only after rows were renumbered (or the first time)."""
        graph, stale, done = self._graph_plan()
        if stale:
            graph.remove(np.asarray(stale, dtype=np.uint64))
            self._add_rows(graph, np.asarray(stale, dtype=np.int64))
        self._add_rows(graph, np.arange(done, len(self.ids)))
        self._graph, self._changed_rows, self._graph_stale = graph, set(), False
        if save and self.folder:
            graph.save(str(self.folder / "graph.usearch"))
            (self.folder / "graph.rows").write_text(str(len(graph)))

    @contextmanager
    def growing_graph(
        self, expected: int = 0, shared: Callable[[], bool] | None = None
    ) -> Iterator[None]:
        """While this block runs, the HNSW graph grows with the rows: each row `put` appends
        joins the graph at once, in a thread of its own (usearch releases the GIL), so a bulk
        import builds the graph while it encodes the next papers instead of after them all
        (docs/benchmarks.md). It starts at the first `put` when the `expected` new rows will
        take the index past `exact_limit`, else once the rows do. The index must not be
        searched meanwhile; `save()` afterwards adds what is left. The graph adds with one
        thread while the encoder and the keyword index share the cores with it; with
        `shared` (an import's "still storing?"), with every core once that says False: at
        2.7M papers the import had stored them all 23 minutes into a 66-minute run, and one
        core then idled (bench/arxiv_scale.py)."""
        if self.folder is None or self._growing:
            yield
            return
        self._growing = True
        self._graph_shared = shared
        self._grow_now = len(self.ids) + expected > self.exact_limit
        try:
            yield
        finally:
            self._growing, self._graph_shared = False, None
            feed, self._graph_feed = self._graph_feed, None
            if feed is not None:
                feed.shutdown(wait=True)
            jobs, self._graph_jobs = self._graph_jobs, deque()
        for job in jobs:
            job.result()  # a failed add raises here

    GRAPH_AHEAD = 64  # puts queued for the graph before `put` waits (~16k rows, bounded memory)

    def _grow_graph(self, new_rows: int) -> None:
        """Before `put` appends `new_rows` rows: start the graph's feed if it is time (see
        growing_graph), giving it first what the graph lacks of the rows already there."""
        if self._graph_feed is not None or not (
            self._grow_now or len(self.ids) + new_rows > self.exact_limit
        ):
            return
        graph, stale, done = self._graph_plan()
        rows = np.concatenate([np.asarray(stale, np.int64), np.arange(done, len(self.ids))])
        vectors = dequantize(np.asarray(self.codes[rows]), self.scales[rows])
        self._graph, self._changed_rows, self._graph_stale = graph, set(), False
        self._graph_feed = ThreadPoolExecutor(1, thread_name_prefix="paperboy-hnsw")

        def catch_up() -> None:
            if stale:
                graph.remove(np.asarray(stale, dtype=np.uint64))
            graph.add(rows.astype(np.uint64), vectors, log=False, threads=1)

        self._graph_jobs.append(self._graph_feed.submit(catch_up))

    def _feed_graph(self, first_row: int, vectors: np.ndarray) -> None:
        """Hand rows just appended to the graph's thread."""
        jobs = self._graph_jobs
        while jobs and (len(jobs) >= self.GRAPH_AHEAD or jobs[0].done()):
            jobs.popleft().result()
        keys = np.arange(first_row, first_row + len(vectors), dtype=np.uint64)
        assert self._graph_feed is not None  # called only while the graph grows
        jobs.append(self._graph_feed.submit(self._add_to_graph, keys, vectors))

    def _add_to_graph(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        # One usearch thread while the block runs, the encoder beside it: more spin on the
        # graph's node locks on a busy machine (measured 34 s of CPU with two threads against
        # 24 s with one, for 75k rows). What is left when the block ends gets every core, and
        # so does the rest of a bulk import's graph once the import has stored its papers.
        assert self._graph is not None  # set when the feed started
        shared = self._graph_shared
        alone = shared is not None and not shared()
        threads = 1 if self._growing and not alone else 0
        self._graph.add(keys, vectors, log=False, threads=threads)

    def _add_rows(self, graph: Index, rows: np.ndarray) -> None:
        for start in range(0, len(rows), 100_000):  # bounded float32 copies
            part = rows[start : start + 100_000]
            if len(part):
                graph.add(
                    part.astype(np.uint64),
                    dequantize(np.asarray(self.codes[part]), self.scales[part]),
                    log=False,
                )
