"""Keeping a deployment's search indexes in step with its store: the entry points.

    update_indexes(store, settings)      # after every import/sync: index what changed
    rebuild_indexes(store, settings)     # `paperboy index`: from scratch, with a progress bar
    check_indexes(store, settings)       # `paperboy index --check`: problems, [] when in step
    backfill_indexes(store, settings)    # `paperboy index --backfill`: transformer vectors

Each picks the backend once (`search_backend`: files beside the store, or PostgreSQL tables),
takes that backend's writers' lock (a backfill one checkpoint at a time), opens the indexes
and runs the one updater (updater.py) over them. `IndexAlongside` indexes a bulk import while
it is still storing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self, cast

from paperboy.config import ConfigError, Settings
from paperboy.progress import Progress
from paperboy.search.backends import Encoder
from paperboy.search.updater import SearchIndexes, UpdateReport

# Seconds a backfill waits between two rounds without the writers' lock (backfill_indexes).
WRITERS_TURN = 0.2

if TYPE_CHECKING:
    from paperboy.store.postgres import PostgresStore
    from paperboy.store.sql import SQLStore


class IndexAlongside:
    """The search indexes, brought up to the store while a bulk import still writes to it.

        with IndexAlongside(store, settings, files=[path]) as alongside:
            import_file(store, path, settings)
        report = alongside.report.plus(update_indexes(store, settings))

    A thread watches the store; once more than `search_embed_limit` papers wait (what the
    update after the import would give to the bulk model anyway), it takes the writers' lock
    and runs one update that follows the import until it ends, so parsing and storing
    overlap with indexing and encoding (docs/benchmarks.md). `update_indexes` afterwards does
    what is left: everything, after an import too small to follow, or when another process
    held the lock. An error or Ctrl-C in the import stops the thread after its current chunk,
    keeping what it indexed; an error in the thread is raised on leaving the block.
    """

    POLL = 0.2  # seconds between looks at the store

    def __init__(
        self,
        store: SQLStore,
        settings: Settings,
        progress: bool = False,
        files: Sequence[Path | str] = (),
    ):
        self.store, self.settings, self.progress = store, settings, progress
        self.files = [Path(f) for f in files]
        self.expected = 0  # papers the files hold, roughly: their lines (see _run)
        self.report = UpdateReport()
        self.stopped = False  # the import failed: finish the current chunk, read no more
        self._done = threading.Event()  # the import has ended
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="paperboy-index-alongside")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stopped = kind is not None
        self._done.set()
        self._thread.join()
        if self._error is not None and kind is None:
            raise self._error

    def more(self) -> bool:
        """Wait a moment for the import to store more: False once it has ended."""
        return not self._done.wait(self.POLL)

    def storing(self) -> bool:
        """Whether the import is still storing papers."""
        return not self._done.is_set()

    def _run(self) -> None:
        store, settings = self.store, self.settings
        try:
            # A JSON-lines file holds a paper a line: counted while the import begins, this
            # tells the encoder at once whether the vectors will need their HNSW graph, so
            # the count stops there (reading a 2.7M-line file twice cost a core half a minute).
            enough = settings.search_exact_limit + 1
            for path in self.files:
                self.expected += _count_lines(path, enough - self.expected)
                if self.expected >= enough:
                    break
            indexes = open_indexes(store, settings)
            since = min([indexes.keyword_watermark] + [v.watermark for v in indexes._all_vectors()])
            while store.count_changed_since(since) <= settings.search_embed_limit:
                if not self.more():
                    return  # a small import: the update after it encodes it, as before
            with indexes_lock(store, settings, wait=False) as ours:
                if ours:  # else another process is updating: the update after the import
                    indexes.reopened()._update(store, self.report, self.progress, follow=self)
        except BaseException as exc:
            self._error = exc
        finally:
            store.close_thread()


def _count_lines(path: Path, enough: int) -> int:
    """Lines in a file, gzipped or not, counted up to about `enough` (0 when it cannot be
    read: the import will say why)."""
    import gzip

    lines = 0
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as fh:
            while lines < enough and (block := fh.read(1 << 20)):
                lines += block.count(b"\n")
    except (OSError, EOFError):
        pass
    return lines


def search_backend(store: SQLStore, settings: Settings) -> str:
    """ "files" or "postgres": where this deployment's search indexes live."""
    on_postgres = getattr(store, "dialect", "") == "postgres"
    backend = (settings.search_backend or "auto").strip().lower()
    if backend == "auto":
        return "postgres" if on_postgres else "files"
    if backend not in ("files", "postgres"):
        raise ConfigError(
            f"search_backend {settings.search_backend!r} is not known: use auto, files or postgres"
        )
    if backend == "postgres" and not on_postgres:
        raise ConfigError(
            'search_backend = "postgres" needs a PostgreSQL database_url; '
            'with SQLite the search indexes are files (search_backend = "files")'
        )
    return backend


def open_indexes(
    store: SQLStore, settings: Settings, encoders: dict[str, Encoder] | None = None
) -> SearchIndexes:
    """The search indexes of this deployment: files beside the store, or PostgreSQL tables."""
    if search_backend(store, settings) == "postgres":
        from paperboy.search.postgres import PgSearchIndexes

        return PgSearchIndexes(cast("PostgresStore", store), settings, encoders=encoders)
    from paperboy.search.files import FileIndexes

    kept = None
    if keeps_vectors(store, settings):
        from paperboy.store.vectors import StoredVectors

        kept = StoredVectors(store)
    return FileIndexes(settings, encoders=encoders, kept=kept)


def keeps_vectors(store: SQLStore, settings: Settings) -> bool:
    """Whether index files take their vectors from the store and keep new ones there
    (`search_keep_vectors`; by default when the store is PostgreSQL, which several hosts
    share: each paper is then encoded once for all of them)."""
    value = (settings.search_keep_vectors or "auto").strip().lower()
    if value not in ("auto", "on", "off"):
        raise ConfigError(
            f"search_keep_vectors {settings.search_keep_vectors!r} is not known: "
            "use auto, on or off"
        )
    if value == "auto":
        return getattr(store, "dialect", "") == "postgres"
    return value == "on"


def indexes_lock(
    store: SQLStore, settings: Settings, wait: bool = True
) -> AbstractContextManager[bool]:
    """The writers' lock of this deployment's indexes (a file lock, or a PostgreSQL advisory
    lock), taken before the indexes are opened, so they are read once, as the last writer
    left them."""
    if search_backend(store, settings) == "postgres":
        from paperboy.search.postgres.indexes import writers_lock

        return writers_lock(cast("PostgresStore", store), wait)
    from paperboy.search.files import writing_indexes

    return writing_indexes(settings, wait)


def update_indexes(
    store: SQLStore,
    settings: Settings,
    progress: bool = False,
    indexes: SearchIndexes | None = None,
    wait: bool = True,
) -> UpdateReport | None:
    """Bring the search indexes up to the store (call after every import or sync). With
    `wait=False`, None at once when another writer holds the indexes (a web request must not
    wait for a bulk import's update; the next update takes what this one would have)."""
    if indexes is not None:
        with indexes.writing():
            return indexes.reopened().update(store, progress)
    with indexes_lock(store, settings, wait) as ours:
        if ours is False:
            return None
        return open_indexes(store, settings).update(store, progress)


def rebuild_indexes(
    store: SQLStore, settings: Settings, progress: bool = True, drop_vectors: bool = False
) -> UpdateReport:
    with indexes_lock(store, settings):
        indexes = open_indexes(store, settings)
        indexes.clear(drop_vectors)
        return indexes.update(store, progress)


def check_indexes(store: SQLStore, settings: Settings) -> list[str]:
    return open_indexes(store, settings).check(store)


def backfill_indexes(
    store: SQLStore,
    settings: Settings,
    limit: int | None = None,
    progress: bool = True,
    save_every: int = 2048,
    encoders: dict[str, Encoder] | None = None,
) -> tuple[int, int]:
    """Bring the indexes up to the store, then give transformer vectors to up to `limit`
    papers that only have static ones: (papers encoded, papers still without).

    The writers' lock is held one checkpoint (`save_every` papers, a minute or two) at a
    time and let go between two, so a sync, an import or a web submission that wants to
    update the indexes waits that long, not the hour a whole backfill can take. Each round
    first indexes what such a writer stored, and reopens the indexes if another process
    saved them meanwhile."""
    encoders = {} if encoders is None else encoders  # loaded once, kept for every round
    done = given = 0  # vectors encoded here; given (encoded, or taken from the store's `kept`)
    indexes: SearchIndexes | None = None
    saved: tuple[int, ...] = ()
    todo: list[str] = []  # what is left, newest first
    with ExitStack() as stack:
        bar: Progress | None = None
        while True:
            with indexes_lock(store, settings):
                fresh = indexes is None or indexes.stamp() != saved  # another writer saved
                if indexes is None or fresh:
                    indexes = open_indexes(store, settings, encoders=encoders)
                report = indexes.update(store, progress=progress and bar is None)
                if fresh or report.keyword:  # listed again only when papers changed
                    todo = indexes.backfill_todo(store)
                wanted = todo if limit is None else todo[: max(0, limit - given)]
                if bar is None:
                    bar = stack.enter_context(
                        Progress("transformer backfill", len(wanted), "papers", enabled=progress)
                    )
                bar.grow(bar.done + len(wanted))
                if not wanted:
                    break
                ids, todo = wanted[:save_every], todo[min(save_every, len(wanted)) :]
                taken = indexes.taken
                encoded = indexes.backfill(store, ids=ids, save_every=len(ids), bar=bar)
                saved = indexes.stamp()
            progressed = encoded + indexes.taken - taken
            done, given = done + encoded, given + progressed
            if len(ids) == len(wanted):  # that was the last round
                break
            if progressed == 0:  # no paper of this round got a vector (none can:
                break  # never loop on them)
            _let_writers_in()
    assert indexes is not None  # the first round opened them
    return done, max(0, store.count_papers() - len(indexes.dense))


def _let_writers_in() -> None:
    """A pause between two rounds of a backfill, without the writers' lock: a process that
    was waiting for it is woken when it is let go, and takes it before the next round."""
    time.sleep(WRITERS_TURN)
