"""The one updater: how any backend's search indexes are brought up to the store.

    indexes.update(store)                # index what changed since the watermarks
    indexes.backfill(store, limit=1000)  # transformer vectors for papers that have static ones
    indexes.check(store)                 # what is out of step with the store; [] when in step

`SearchIndexes` is the base of both backends (`search/files/`, `search/postgres/`): it holds
the whole update (reading the store by its change counter `seq`, the keyword side, the encoding
thread, watermarks written after the data they vouch for), and each backend supplies only
where things are kept: its keyword index and vector indexes (backends.py), its watermark, its
writers' lock and what to do after a keyword update. Entry points that pick the backend
(`update_indexes`, `rebuild_indexes`, ...) are in upkeep.py.

Every paper row in the store carries `seq`, a change counter; each index remembers the highest
`seq` it has absorbed (its watermark), written only after its data. A crash between the store
and an index leaves the watermark behind, and the next update redoes that work: adding a paper
twice replaces it, so nothing is lost or duplicated.

Two embedding models share the work (settings `search_model` and `search_bulk_model`): up to
`search_embed_limit` changed papers per update are encoded by the transformer (best quality);
a bigger backlog (a bulk import) gets the static model's vectors at once, and
`paperboy index --backfill` upgrades them to the transformer later, newest first.

An update is one pass over the changed papers: the keyword index is written in the calling
thread while another encodes (and, past the exact limit, a third grows the HNSW graph), so two
cores share a bulk import; upkeep.IndexAlongside runs that pass while an import is still
storing papers (docs/search.md, "Indexing a bulk import").
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, cast

import numpy as np

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.progress import Progress
from paperboy.search.backends import Encoder, KeywordIndex, PassageEncoder, VectorIndex
from paperboy.search.encoders import vectors_identity

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore
    from paperboy.store.vectors import StoredVectors

CHUNK = 2000  # papers read from the store per step
# Papers between keyword commits (and watermarks) in one update. Each commit writes a segment
# and waits for merges: committing every CHUNK cost a fifth of a 75k-paper bulk import; after
# a crash, at most this many are indexed again.
KEYWORD_COMMIT_EVERY = 25_000
MAX_PASSAGES = 16  # sentences per paper for re-scoring (encoders.passages)
ENCODE_CHUNK = 256  # papers encoded per step (bounded memory, progress updates)


def paper_text(paper: Paper) -> str:
    """What the embedding models read: title and abstract."""
    return f"{paper.title or ''}. {paper.abstract or ''}".strip()


def passage_id(paper_id: str, k: int) -> str:
    return f"{paper_id}#{k}"


def text_hash(text: str) -> int:
    """A stable 63-bit hash of the text a vector was computed from (a paper whose upvotes
    change is not encoded again)."""
    digest = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class Follow(Protocol):
    """An import still storing papers, followed by one update (upkeep.IndexAlongside)."""

    expected: int  # papers it will likely store
    stopped: bool  # it failed: finish the current chunk, read no more

    def more(self) -> bool:
        """Wait a moment for it to store more: False once it has ended."""
        ...

    def storing(self) -> bool:
        """Whether it is still storing papers (parsing and writing on a core of its own)."""
        ...


@dataclass
class UpdateReport:
    keyword: int = 0  # papers (re)indexed by keyword
    dense: int = 0  # papers encoded by the transformer
    bulk: int = 0  # papers encoded by the static model
    backlog: int = 0  # papers still waiting for transformer vectors
    notes: list[str] = field(default_factory=list)
    kept: int = 0  # vectors taken from the store (another host had encoded them)

    def plus(self, later: UpdateReport) -> UpdateReport:
        """This report and a later one's, as one (the backlog is the later one's)."""
        return UpdateReport(
            self.keyword + later.keyword,
            self.dense + later.dense,
            self.bulk + later.bulk,
            later.backlog,
            self.notes + later.notes,
            self.kept + later.kept,
        )

    def summary(self) -> str:
        text = f"indexed {self.keyword} papers (transformer {self.dense}, static {self.bulk}"
        text += f", vectors from the store {self.kept})" if self.kept else ")"
        if self.backlog:
            text += f"; {self.backlog} wait for transformer vectors (paperboy index --backfill)"
        return text


class SearchIndexes(ABC):
    """The keyword index and the vector indexes of one deployment, and their updating.
    Subclasses set `settings`, `keyword`, `dense`, `bulk`, `passages` and `_encoders` in their
    own `__init__`, and say where the keyword watermark lives and how writers are locked."""

    settings: Settings
    keyword: KeywordIndex
    dense: VectorIndex
    bulk: VectorIndex | None
    passages: VectorIndex | None
    _encoders: dict[str, Encoder]
    # Vectors kept in the store for other hosts (store/vectors.py), when they are shared.
    kept: StoredVectors | None = None
    # Whether the keyword index and the vectors may be searched at the same time from two
    # threads, each waiting without the GIL (index files: tantivy and usearch let go of it;
    # PostgreSQL: each statement borrows a pooled connection, and the server runs the two).
    searches_at_once = False
    # How the keyword side ranks ("bm25", "ts_rank"): the fusion weights depend on it.
    keyword_ranking = "bm25"
    taken = 0  # vectors this object took from `kept` instead of encoding them

    # -- what each backend supplies ----------------------------------------------------------
    @abstractmethod
    def reopened(self) -> SearchIndexes:
        """These indexes as saved now (another process may have written them)."""

    @abstractmethod
    def writing(self, wait: bool = True) -> AbstractContextManager[bool]:
        """Held while updating: one writer at a time across processes; yields whether held."""

    @abstractmethod
    def stamp(self) -> tuple[int, ...]:
        """Changes whenever another process saved the indexes and readers must reopen them."""

    @property
    @abstractmethod
    def keyword_watermark(self) -> int:
        """The highest `seq` the keyword index has absorbed."""

    @abstractmethod
    def _set_keyword_watermark(self, seq: int) -> None:
        """Record the keyword watermark (called only after the rows it vouches for)."""

    @abstractmethod
    def _keyword_updated(self, report: UpdateReport) -> None:
        """After an update added papers to the keyword index (tidy up, refresh statistics)."""

    # -- models ------------------------------------------------------------------------------
    def encoder(self, model: str) -> Encoder:
        if model not in self._encoders:
            from paperboy.search.encoders import load_encoder

            self._encoders[model] = load_encoder(model, self.settings.search_threads or None)
        return self._encoders[model]

    def behind(self, store: SQLStore) -> bool:
        """True when the store changed since some index was last updated."""
        seq = store.max_seq()
        return self.keyword_watermark < seq or any(v.watermark < seq for v in self._all_vectors())

    def _all_vectors(self) -> list[VectorIndex]:
        return [self.dense] + ([self.bulk] if self.bulk is not None else [])

    # -- updating ----------------------------------------------------------------------------
    def update(self, store: SQLStore, progress: bool = False) -> UpdateReport:
        report = UpdateReport()
        self._update(store, report, progress)
        report.backlog = max(0, store.count_papers() - len(self.dense))
        return report

    def _update_keyword(self, store: SQLStore, report: UpdateReport, progress: bool) -> None:
        """The keyword index alone (benchmarks time the two sides apart)."""
        self._update(store, report, progress, vectors=False)

    def _update_vectors(self, store: SQLStore, report: UpdateReport, progress: bool) -> None:
        self._update(store, report, progress, keyword=False)

    def _update(
        self,
        store: SQLStore,
        report: UpdateReport,
        progress: bool,
        keyword: bool = True,
        vectors: bool = True,
        follow: Follow | None = None,
    ) -> None:
        """One pass over the papers changed since the watermarks: this thread writes the
        keyword index while a second one encodes (see _Encoding), so a bulk import keeps two
        cores busy and reads each paper from the store once. With `follow`, the pass goes on
        while an import is still storing papers (see IndexAlongside)."""
        keyword_from = self.keyword_watermark if keyword else None
        vectors_from = min(v.watermark for v in self._all_vectors()) if vectors else None
        start = min(s for s in (keyword_from, vectors_from) if s is not None)
        total = store.count_changed_since(start)
        if not total:
            return
        target = store.max_seq()
        pending = 0
        if vectors_from is not None:
            pending = total if vectors_from == start else store.count_changed_since(vectors_from)
        try:
            with (
                Progress(
                    "search index", total=None if follow else total, unit="papers", enabled=progress
                ) as bar,
                _Encoding(self, report, pending, follow) if pending else nullcontext() as encoding,
            ):
                last = self._feed(
                    store, start, keyword_from, vectors_from, encoding, report, bar, follow
                )
        except BaseException:
            if keyword_from is not None:
                self.keyword.rollback()  # the next update redoes it from the watermark
            raise
        if keyword_from is not None:
            self._keyword_updated(report)
        if pending:
            stopped = follow is not None and follow.stopped  # rows after `last` are unread
            self._save_all(watermark=last if stopped else max(target, last))

    def _feed(
        self,
        store: SQLStore,
        start: int,
        keyword_from: int | None,
        vectors_from: int | None,
        encoding: _Encoding | None,
        report: UpdateReport,
        bar: Progress,
        follow: Follow | None = None,
    ) -> int:
        """Read the changes after `start` in chunks: index the words of those after
        `keyword_from`, hand those after `vectors_from` to the encoder. The last seq read."""
        uncommitted, last, seen = 0, start, 0
        while not (follow is not None and follow.stopped):
            rows = store.changed_since(last, CHUNK)
            if not rows:
                if follow is not None and follow.more():
                    continue
                break
            last = rows[-1][0]
            if keyword_from is not None:
                papers = [paper for seq, paper in rows if seq > keyword_from]
                report.keyword += self.keyword.add(papers)
                uncommitted += len(papers)
                if uncommitted >= KEYWORD_COMMIT_EVERY:
                    self._commit_keyword(last)
                    uncommitted = 0
            if encoding is not None and vectors_from is not None:  # both or neither
                encoding.submit([paper for seq, paper in rows if seq > vectors_from], len(rows))
            seen += len(rows)
            done = seen if encoding is None else encoding.done  # the encoder trails
            bar.set_position(done, done)
        if keyword_from is not None and last > keyword_from:
            self._commit_keyword(last)
        if encoding is not None:
            encoding.finish()
            bar.set_position(seen, seen)
        return last

    def _commit_keyword(self, seq: int) -> None:
        self.keyword.commit()
        self._set_keyword_watermark(seq)  # after the commit: crash-safe order

    def _save_all(self, watermark: int | None = None) -> None:
        # Passages first: the main vectors' watermark vouches for them.
        if self.passages is not None:
            self.passages.save()
        for vectors in self._all_vectors():
            vectors.save(watermark=watermark)

    def _encode_into(self, vectors: VectorIndex, papers: list[Paper]) -> int:
        """Encode the papers whose text changed (or that have no vector yet); with vectors
        kept in the store (`kept`), take those another host encoded and keep the new ones.
        Returns how many were encoded here (`taken` counts those taken from the store)."""
        items = [(p.id, text, text_hash(text)) for p in papers for text in [paper_text(p)]]
        stale = vectors.stale([(pid, h) for pid, _, h in items])
        todo = [item for item in items if item[0] in stale]
        if not todo:
            return 0
        if self.kept is None:
            return self._encode_todo(vectors, todo)
        with self.kept.encoding():  # one encoder at a time on every host: none encodes twice
            todo = self._take_kept(vectors, todo)
            return self._encode_todo(vectors, todo) if todo else 0

    def _take_kept(
        self, vectors: VectorIndex, todo: list[tuple[str, str, int]]
    ) -> list[tuple[str, str, int]]:
        """Put the vectors the store keeps for these papers into `vectors` (and their
        passages); the papers still to encode."""
        assert self.kept is not None
        model = vectors_identity(vectors.model)
        found = self.kept.get(model, [(pid, h) for pid, _, h in todo])
        if found:
            ids = [pid for pid, _, _ in todo if pid in found]
            hashes = {pid: h for pid, _, h in todo}
            vectors.put(ids, np.stack([found[pid] for pid in ids]), [hashes[i] for i in ids])
            if vectors is self.dense and self.passages is not None:
                kept = self.kept.passages(
                    model + "#passages", [(pid, hashes[pid]) for pid in ids], MAX_PASSAGES
                )
                self.passages.remove(passage_id(pid, k) for pid in ids for k in range(MAX_PASSAGES))
                if kept:
                    self.passages.put(
                        [passage_id(pid, k) for pid, k, _ in kept], np.stack([v for *_, v in kept])
                    )
            self.taken += len(ids)
        return [item for item in todo if item[0] not in found]

    def _encode_todo(self, vectors: VectorIndex, todo: list[tuple[str, str, int]]) -> int:
        encoder = self.encoder(vectors.model)
        with_passages = vectors is self.dense and self.passages is not None
        for start in range(0, len(todo), ENCODE_CHUNK):
            part = todo[start : start + ENCODE_CHUNK]
            ids, texts = [pid for pid, _, _ in part], [t for _, t, _ in part]
            if with_passages and hasattr(encoder, "encode_with_passages"):
                # One run of the model gives the paper's vector and its passages' vectors.
                encoded, passages, owners = cast(PassageEncoder, encoder).encode_with_passages(
                    texts, max_passages=MAX_PASSAGES
                )
                self._put_passages(ids, passages, owners, [h for _, _, h in part])
            elif with_passages:
                encoded = encoder.encode(texts)
                self._put_passages(
                    ids,
                    *cast(PassageEncoder, encoder).encode_passages(
                        texts, max_passages=MAX_PASSAGES
                    ),
                    [h for _, _, h in part],
                )
            else:
                encoded = encoder.encode(texts)
            hashes = [h for _, _, h in part]
            if self.kept is not None:  # kept before the index has them: the lock is held
                self.kept.put(vectors_identity(vectors.model), ids, hashes, encoded)
            vectors.put(ids, encoded, hashes)
        return len(todo)

    def _put_passages(
        self, ids: list[str], vecs: np.ndarray, owners: np.ndarray, hashes: list[int]
    ) -> None:
        """Replace these papers' passages (none for a paper whose text is one sentence)."""
        passages = self.passages
        assert passages is not None  # only called when the dense model has passages
        passages.remove(passage_id(pid, k) for pid in ids for k in range(MAX_PASSAGES))
        counts: dict[int, int] = {}
        keys = []
        for owner in owners:
            k = counts.get(owner, 0)
            counts[owner] = k + 1
            keys.append(passage_id(ids[owner], k))
        if self.kept is not None and len(keys):
            self.kept.put(
                vectors_identity(self.dense.model) + "#passages",
                keys,
                [hashes[owner] for owner in owners],
                vecs,
            )
        passages.put(keys, vecs)

    def backfill_todo(self, store: SQLStore) -> list[str]:
        """The papers that only have static vectors, newest id first (new-style arXiv ids
        sort by date)."""
        have = self.dense.id_set()
        return sorted((pid for pid in store.all_paper_ids() if pid not in have), reverse=True)

    def backfill(
        self,
        store: SQLStore,
        limit: int | None = None,
        progress: bool = True,
        save_every: int = 2048,
        bar: Progress | None = None,
        ids: list[str] | None = None,
    ) -> int:
        """Give transformer vectors to up to `limit` papers that only have static ones,
        newest first (or to these `ids`, from `backfill_todo`); returns how many were encoded.

        Saved every `save_every` papers: a backfill that is stopped (even by kill -9) keeps
        what was saved, and the next one encodes only the rest (each paper once). `bar`: a
        progress bar this run moves on from where it stands (upkeep.backfill_indexes runs
        one round per checkpoint under one bar); else one of its own when `progress`."""
        missing = self.backfill_todo(store) if ids is None else ids
        if limit is not None:
            missing = missing[:limit]
        step = max(1, min(ENCODE_CHUNK, save_every))
        done = unsaved = 0
        with ExitStack() as stack:
            if bar is None:
                bar = stack.enter_context(
                    Progress(
                        "transformer backfill",
                        total=len(missing),
                        unit="papers",
                        enabled=progress,
                    )
                )
            before, encoded_before = bar.done, bar.items
            for start in range(0, len(missing), step):
                chunk = missing[start : start + step]
                papers = [p for p in (store.get_many(chunk).get(i) for i in chunk) if p]
                # Counted as unsaved whether encoded here or taken from `kept`.
                done, unsaved = done + self._encode_into(self.dense, papers), unsaved + len(papers)
                if unsaved >= save_every:
                    self._save_all()
                    unsaved = 0
                bar.set_position(before + start + len(chunk), encoded_before + done)
        if unsaved:
            self._save_all()
        return done

    def clear(self, drop_vectors: bool = False) -> None:
        """Start the indexes over. Vectors are kept unless `drop_vectors`: their text hashes
        tell which are still right, so a rebuild does not redo an hour of encoding."""
        self.keyword.clear()
        self.keyword.commit()
        self._set_keyword_watermark(0)
        for vectors in self._all_vectors() + ([self.passages] if self.passages else []):
            if drop_vectors:
                vectors.clear()
            vectors.save(watermark=0)

    # -- checking ----------------------------------------------------------------------------
    def check(self, store: SQLStore) -> list[str]:
        """What is out of step with the store; empty when all is well."""
        problems = []
        seq = store.max_seq()
        stored = set(store.all_paper_ids())
        if self.keyword_watermark < seq:
            problems.append(
                f"keyword index is behind the store (watermark "
                f"{self.keyword_watermark} < {seq}): run paperboy index"
            )
        kw_ids = self.keyword.all_ids()
        if len(kw_ids) != len(set(kw_ids)):
            problems.append(f"keyword index holds {len(kw_ids) - len(set(kw_ids))} duplicates")
        missing, extra = stored - set(kw_ids), set(kw_ids) - stored
        if missing:
            problems.append(
                f"keyword index lacks {len(missing)} stored papers, e.g. {min(missing)}"
            )
        if extra:
            problems.append(
                f"keyword index holds {len(extra)} papers the store lacks, e.g. {min(extra)}"
            )
        covered: set[str] = set()
        for vectors in self._all_vectors():
            if vectors.watermark < seq:
                problems.append(
                    f"{vectors.model} vectors are behind the store (watermark "
                    f"{vectors.watermark} < {seq}): run paperboy index"
                )
            ids = vectors.id_set()  # one read each (a query on PostgreSQL)
            covered |= ids
            extra = ids - stored
            if extra:
                problems.append(f"{vectors.model} vectors hold {len(extra)} unknown papers")
        if stored - covered:
            problems.append(f"{len(stored - covered)} papers have no vector: run paperboy index")
        return problems


class _Encoding:
    """The vector side of an update, run in a background thread while the caller feeds the
    keyword index: the encoders (tokenizers, onnxruntime) and the HNSW graph (usearch) release
    the GIL, the keyword side mostly holds it, so on two cores the two overlap. Chunks are
    encoded in the order given; the caller waits when it is `AHEAD` chunks in front.

    A small update goes to the transformer; a bigger backlog (a bulk import) to the bulk
    model, whose new rows join the HNSW graph while the next ones are encoded
    (VectorIndex.growing_graph)."""

    AHEAD = 4  # chunks

    def __init__(
        self,
        indexes: SearchIndexes,
        report: UpdateReport,
        pending: int,
        follow: Follow | None = None,
    ):
        self.indexes, self.report, self.pending = indexes, report, pending
        # papers this update will likely encode
        self.expected = max(pending, follow.expected if follow is not None else 0)
        self.follow = follow
        bulk = indexes.bulk
        self.use_dense = bulk is None or pending <= indexes.settings.search_embed_limit
        self.done = 0  # rows (as counted by `submit`) fully encoded
        self._jobs: deque[Future[None]] = deque()
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        grow = getattr(self.indexes.bulk, "growing_graph", None)  # index files, not tables
        if not self.use_dense and grow is not None:
            shared = self.follow.storing if self.follow is not None else None
            self._stack.enter_context(grow(self.expected, shared))
        # Entered last, so it ends first: no chunk is still being put when the graph's feed
        # closes.
        self._pool = self._stack.enter_context(
            ThreadPoolExecutor(1, thread_name_prefix="paperboy-encode")
        )
        return self

    def finish(self) -> None:
        """Wait for every chunk to be encoded (an encoder's error is raised here)."""
        while self._jobs:
            self._jobs.popleft().result()
        self._stack.close()  # the worker ends, then the graph's feed catches up

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for job in self._jobs:  # left only when the caller failed: stop what has not begun
            job.cancel()
        self._stack.close()

    def submit(self, papers: list[Paper], rows: int) -> None:
        """Encode these papers (`rows`: how far this moves the progress count)."""
        while self._jobs and (len(self._jobs) >= self.AHEAD or self._jobs[0].done()):
            self._jobs.popleft().result()
        self._jobs.append(self._pool.submit(self._encode, papers, rows))

    def _encode(self, papers: list[Paper], rows: int) -> None:
        indexes, report = self.indexes, self.report
        dense, bulk = indexes.dense, indexes.bulk
        taken = indexes.taken
        if self.use_dense:
            report.dense += indexes._encode_into(dense, papers)
        else:
            # The transformer's vectors of papers whose text changed are wrong now: drop
            # them (the static ones below stand in until a backfill).
            dense.remove(dense.stale([(p.id, text_hash(paper_text(p))) for p in papers]))
        if bulk is not None:
            report.bulk += indexes._encode_into(bulk, papers)
        report.kept += indexes.taken - taken
        self.done += rows
