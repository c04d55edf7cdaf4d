"""The one run loop: every way papers come in is a recorded run, and only it updates the indexes.

Import, harvest, sync, fetch, the submissions worker and a submission of a stored paper all go
through `RecordedRun`: begin (or resume) a run in the store, write batches (papers, rejected
records and the run's checkpoint in one transaction), finish it "done" or "failed", then bring
the search indexes up to what it stored.

    with RecordedRun(store, settings, "sync:hf", url, "sync:hf") as recorded:
        for day in days:
            recorded.write(papers, rejections, checkpoint={"day": day.isoformat()})
    recorded.run.summary()   # added 12, updated 3, unchanged 0, rejected 1

A run never stays "running" because of an error: an exception (a bug, a store error, Ctrl-C)
leaving the block marks it failed with the error, unless the source finished it itself first
(`fail`, or `finish` with its own status and message). Only `kill -9` leaves a run
"running", and the same command resumes it from its checkpoint.

Several runs in a row (`paperboy import a b c`, `paperboy sync` over its sources, draining the
submissions queue) share one index update: inside `one_index_update(...)` the runs leave the
indexes to the block, which updates them once on leaving it, also when an error ends it (what
was stored before the error becomes searchable). A run outside such a block updates them as
it finishes. That is the only code in paperboy that triggers an index update, apart from
`open_search` repairing indexes that fell behind (after a crash) when a process starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Self

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.store import Run

log = logging.getLogger(__name__)

# The enclosing `one_index_update` block of this thread, if any: runs inside it leave the index
# update to the block.
_BLOCK: ContextVar[IndexUpdate | None] = ContextVar("paperboy_index_block", default=None)


class IndexUpdate:
    """What `one_index_update` did: `report` is the indexes' UpdateReport (None until the
    block ends, or when another process held the indexes and `wait` was off)."""

    def __init__(self) -> None:
        self.report = None
        self.stored = False  # whether a run inside the block added or changed papers


def update_after_ingest(store, settings: Settings, progress: bool = False, wait: bool = True):
    """Bring the search indexes up to the store; the UpdateReport, or None when `wait` is off
    and another process holds them (its next update takes these papers too)."""
    from paperboy.search import update_indexes

    return update_indexes(store, settings, progress=progress, wait=wait)


@contextmanager
def one_index_update(
    store,
    settings: Settings,
    progress: bool = False,
    files: Sequence[Path] = (),
    quiet: bool = False,
) -> Iterator[IndexUpdate]:
    """Runs inside the block share one index update, on leaving it. With `files` (a bulk
    import), the indexes follow the import while it is stored (search.upkeep.IndexAlongside)
    and the update on leaving does the rest. `quiet` (a worker that goes on): no update when
    no run stored anything, and a failed one is logged, not raised."""
    update = IndexUpdate()
    token = _BLOCK.set(update)
    along = None
    try:
        with ExitStack() as stack:
            if files:
                from paperboy.search.upkeep import IndexAlongside

                along = stack.enter_context(
                    IndexAlongside(store, settings, progress=progress, files=list(files))
                )
            yield update
    except BaseException:
        _update_quietly(store, settings)  # what was stored before the error
        raise
    finally:
        _BLOCK.reset(token)
    if quiet:
        if not update.stored:
            return
        report = _update_quietly(store, settings, progress=progress)
    else:
        report = update_after_ingest(store, settings, progress)
    update.report = along.report.plus(report) if along is not None and report else report


def _update_quietly(store, settings: Settings, progress: bool = False, wait: bool = True):
    """An index update that must not hide the error (or the result) the caller is about to
    see: a failure is logged, and the next update takes these papers."""
    try:
        return update_after_ingest(store, settings, progress=progress, wait=wait)
    except Exception as exc:
        log.warning(
            "search indexes not updated (%s: %s); the papers are stored and the next "
            "update indexes them",
            type(exc).__name__,
            exc,
        )
        return None


class RecordedRun:
    """One run: begun (or resumed) on entering, finished on leaving, then indexed.

    `interrupted`: the status Ctrl-C leaves ("failed", or "running" for a source whose runs
    resume that way, the OAI-PMH harvest). `index=False` leaves the index update to the caller
    (benchmarks timing it apart); `index_wait=False` (a web request) skips it when another
    process is writing the indexes.
    """

    def __init__(
        self,
        store,
        settings: Settings,
        kind: str,
        source: str,
        fingerprint: str,
        *,
        resume_failed: bool = False,
        interrupted: str = "failed",
        index: bool = True,
        index_wait: bool = True,
    ):
        self.store, self.settings = store, settings
        self.kind, self.source, self.fingerprint = kind, source, fingerprint
        self.resume_failed, self.interrupted = resume_failed, interrupted
        self.index, self.index_wait = index, index_wait
        self.run: Run | None = None
        self.finished = False

    def __enter__(self) -> Self:
        self.run = self.store.begin_run(
            self.kind, self.source, self.fingerprint, resume_failed=self.resume_failed
        )
        return self

    @property
    def checkpoint(self) -> dict:
        return self.run.checkpoint or {}

    @property
    def stored(self) -> int:
        """Papers stored so far (added, updated or unchanged)."""
        return self.run.added + self.run.updated + self.run.unchanged

    def write(
        self,
        papers: Iterable[Paper],
        rejections: list[tuple[str, str]] = (),
        checkpoint: dict | None = None,
    ) -> None:
        """One batch: papers, rejections and the checkpoint commit together, or not at all."""
        run = self.run
        saved = (run.added, run.updated, run.unchanged, run.rejected, run.checkpoint)
        try:
            self.store.upsert(papers, run=run, checkpoint=checkpoint, rejections=list(rejections))
        except BaseException:
            # The transaction rolled back: so must the run's counts and checkpoint, or marking
            # it failed would save a checkpoint past records that were never stored.
            run.added, run.updated, run.unchanged, run.rejected, run.checkpoint = saved
            raise

    def finish(self, status: str = "done", message: str | None = None) -> None:
        """End the run with `status` now (the source knows best why it stopped)."""
        self.store.finish_run(self.run, status, message)
        self.finished = True

    def fail(self, message: str) -> None:
        self.finish("failed", message)

    def __exit__(self, kind, error, trace) -> None:
        if self.run is None:
            return
        if error is None:
            if not self.finished:
                self.finish("done")
        elif not self.finished:
            self._finish_after(error)
        self._index()

    def _finish_after(self, error: BaseException) -> None:
        interrupted = isinstance(error, KeyboardInterrupt)
        status = self.interrupted if interrupted else "failed"
        reason = "interrupted" if interrupted else f"{type(error).__name__}: {error}"
        message = (
            f"{self.source}: the run stopped ({reason}); the {self.stored} papers stored "
            "before are kept."
        )
        try:
            self.finish(status, message)
        except Exception:  # the store itself may be what failed
            log.exception("%s: cannot record that the run stopped", self.source)

    def _index(self) -> None:
        if not self.index or not (self.run.added or self.run.updated):
            return  # nothing new to index
        block = _BLOCK.get()
        if block is not None:
            block.stored = True  # the enclosing block updates once for all its runs
            return
        # The run's outcome is what its caller needs; a failed update is logged and the next
        # one (or open_search at the next start) takes these papers.
        _update_quietly(self.store, self.settings, wait=self.index_wait)
