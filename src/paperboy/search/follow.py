"""Index replicas: each web process keeps its host's index files in step with the store.

    with IndexFollower(store, settings, engine):   # `paperboy serve` does this in each worker
        ...                                        # a thread looks at the store every second

With PostgreSQL as the one store and `search_backend = "files"` on several web hosts, a paper
written through one host (an import, a sync, a submission) is indexed there at once, but the
other hosts' index files know nothing of it. So every `serve` worker runs a thread that reads
the store's change counter (`max(seq)`, one index look-up) every `search_follow` seconds and,
when it is past this host's watermarks, runs the one updater (updater.py) without waiting for
the host's writers' lock: one worker per host updates the files, the others find the lock
held, skip, and reload the files when their stamp moves (engine.HybridSearch.refresh). Vectors
are not encoded again where the store keeps them (store/vectors.py): the host that first
encodes a paper keeps its vector there.

A kill -9 mid-update costs nothing but time: the watermarks are written after the data they
vouch for, so the next update (this process's next look, or a restarted one) redoes only what
was not saved, and adding a paper again replaces it (tests/test_replica_servers.py kills a
host with SIGKILL mid-update and checks it).
Polling rather than LISTEN/NOTIFY: it needs no connection held open per worker, survives a
database restart without re-subscribing, and its cost is one index look-up per look; the lag
it adds is at most `search_follow` (docs/benchmarks.md, "Index replicas").
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Self

from paperboy.config import Settings
from paperboy.search.updater import UpdateReport
from paperboy.search.upkeep import search_backend, update_indexes

if TYPE_CHECKING:
    from paperboy.search.engine import HybridSearch
    from paperboy.store.sql import SQLStore

log = logging.getLogger("paperboy.search.follow")
MAX_BACKOFF = 60.0  # seconds between looks after repeated errors
STOP_WAIT = 5.0  # seconds a stopping worker waits for an update under way (see stop)


def follows(store: SQLStore, settings: Settings) -> bool:
    """Whether web processes follow the store: a PostgreSQL store (which several hosts can
    share), index files, and `search_follow` > 0. With SQLite every writer is on this host and
    updates the files itself (and a follower would race a bulk import for them)."""
    return (
        settings.search_follow > 0
        and getattr(store, "dialect", "") == "postgres"
        and search_backend(store, settings) == "files"
    )


class IndexFollower:
    """A thread that brings this host's index files up to the store while the block runs."""

    def __init__(self, store: SQLStore, settings: Settings, engine: HybridSearch):
        self.store, self.settings, self.engine = store, settings, engine
        self.every = float(settings.search_follow)
        self.updates = 0  # updates this follower ran (tests and logs)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="paperboy-index-follower", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """No more looks. An update under way gets STOP_WAIT seconds to end; a longer one (a
        big backlog) is left to die with the process, which loses nothing: the watermarks
        are written after the data, so the next process redoes only what was not saved."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(STOP_WAIT)

    def step(self) -> UpdateReport | None:
        """One look: an update when the store is past this host's indexes, else None."""
        engine = self.engine
        engine.refresh()
        if not engine.indexes.behind(self.store):
            return None
        report = update_indexes(self.store, self.settings, wait=False)
        if report is None:  # another worker of this host is updating: reload when it is done
            return None
        self.updates += 1
        engine.refresh(force=True)
        if report.keyword or report.dense or report.bulk or report.kept:
            log.info("index follower: %s", report.summary())
        return report

    def _run(self) -> None:
        wait = self.every
        try:
            while not self._stop.wait(wait):
                try:
                    self.step()
                    wait = self.every
                except Exception:
                    log.exception("index follower: the update failed; trying again later")
                    wait = min(MAX_BACKOFF, wait * 2)
        finally:
            self.store.close_thread()
