"""The submissions worker: fetches from arXiv the papers users submitted by id.

A web request naming a paper that is not stored here only queues it (store/submissions.py) and
answers at once with a status URL; no request waits on arXiv. One worker per deployment drains
the queue: a thread of `paperboy serve`'s supervising process (setting `submissions_worker`),
or `paperboy submissions run`, which fetches what is due and exits.

    report = drain(store, settings)        # `paperboy submissions run`
    with worker_running(settings): ...     # `paperboy serve`

"One per deployment" is a lock in the store, renewed by a heartbeat while it is held: several
serve processes on one PostgreSQL database take turns, and a holder that died (kill -9, a lost
host) is replaced once its process is gone or its heartbeat is stale; the new holder first puts
the rows the dead one was fetching back in the queue. Each batch (up to `arxiv_api_page_size`
ids: one arXiv request through the polite client, which keeps arXiv's 3 s interval across the
processes of a data directory) is a recorded run of kind "submissions" (ingest/runs.py, the
run loop every source uses): the papers, with today's feed entry, and the queue rows commit in
one transaction, and the run makes them searchable as it ends. A failed fetch puts the batch
back for a later try (`submissions_retry` seconds, doubling) until `submissions_attempts`
tries; an id arXiv does not know fails at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from paperboy.config import Settings
from paperboy.ingest.runs import RecordedRun, one_index_update
from paperboy.papers import FeedEntry
from paperboy.sources import SourceError
from paperboy.store.submissions import stamp
from paperboy.system import pid_alive, utc_today

log = logging.getLogger("paperboy.submissions")

LOCK = "submissions"
BEAT_SECONDS = 10.0  # the holder renews the lock this often
STALE_SECONDS = 60.0  # a holder silent this long is presumed dead
POLL_SECONDS = 1.0  # an idle worker looks at the queue this often (one indexed read)
STANDBY_SECONDS = 15.0  # a process that does not hold the lock asks again this often
MAX_RETRY_SECONDS = 3600.0


class QueueBusy(SourceError):
    """Another live worker holds the queue (`paperboy submissions run` while serve runs)."""


def _stale(record: dict) -> bool:
    """Whether a recorded holder is gone: its process died (same host) or it fell silent."""
    here = record.get("host") == socket.gethostname() and isinstance(record.get("pid"), int)
    if here and not pid_alive(record["pid"]):
        return True
    return time.time() - float(record.get("beat", 0)) > STALE_SECONDS


class QueueLock:
    """This process's hold on the queue; a heartbeat thread renews it while held."""

    def __init__(self, store):
        self.store = store
        self.holder = {
            "id": uuid.uuid4().hex,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": stamp(),
            "beat": time.time(),
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def acquire(self) -> dict | None:
        """Take the lock: None when taken, else the live holder's record."""
        self.holder["beat"] = time.time()
        current = self.store.take_lock(LOCK, self.holder, _stale)
        if current is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._beat, name="paperboy-queue-lock", daemon=True
            )
            self._thread.start()
        return current

    def _beat(self) -> None:
        mine = self.holder["id"]
        try:
            while not self._stop.wait(BEAT_SECONDS):
                self.holder["beat"] = time.time()
                current = self.store.take_lock(
                    LOCK, self.holder, lambda rec: rec.get("id") == mine or _stale(rec)
                )
                if current is not None:  # presumed dead and replaced: stop claiming
                    log.warning(
                        "submissions: another worker took over the queue (pid %s on %s)",
                        current.get("pid"),
                        current.get("host"),
                    )
                    return
        except Exception:  # the store is unreachable: let the lock go stale, stop claiming
            log.exception("submissions: cannot renew the queue lock")
        finally:
            self.store.close_thread()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
            self.store.release_lock(LOCK, self.holder["id"])


@dataclass
class Batch:
    """What one claimed batch came to."""

    claimed: int
    stored: list[str] = field(default_factory=list)  # paper ids added to the feed
    unknown: list[str] = field(default_factory=list)  # ids arXiv does not know
    retry: int = 0  # back in the queue after a failed fetch
    given_up: int = 0  # failed for good after the last try
    problem: str | None = None  # why the fetch failed


def _retry_delay(settings: Settings, attempts: int) -> float:
    return min(settings.submissions_retry * 2 ** max(0, attempts - 1), MAX_RETRY_SECONDS)


def run_batch(store, settings: Settings, client) -> Batch | None:
    """Claim the due submissions (one arXiv request's worth), fetch and store them as a
    recorded run (which makes them searchable as it ends); None when nothing is due."""
    claim, batch = store.claim_submissions(max(1, settings.arxiv_api_page_size))
    if not batch:
        return None
    result = Batch(len(batch))
    with RecordedRun(
        store, settings, "submissions", settings.arxiv_api_url, "submissions"
    ) as recorded:
        _fetch_batch(store, settings, client, claim, batch, recorded, result)
    return result


def _fetch_batch(
    store, settings: Settings, client, claim: str, batch, recorded: RecordedRun, result: Batch
) -> None:
    from paperboy.sources.arxiv_api import fetch_papers

    ids = [sub.id for sub in batch]
    try:
        found = {p.id: p for p in fetch_papers([s.paper_id for s in batch], settings, client)}
    except SourceError as exc:
        result.problem = str(exc)
        due = stamp(time.time() + _retry_delay(settings, max(s.attempts for s in batch)))
        result.given_up = store.retry_submissions(
            claim, ids, f"the last try failed: {exc}", due, settings.submissions_attempts
        )
        result.retry = len(batch) - result.given_up
        recorded.fail(
            f"{exc} {result.retry} submissions wait for another try, "
            f"{result.given_up} failed for good."
        )
        return
    today = utc_today()
    hits, missing = [], []
    for sub in batch:
        paper = found.get(sub.paper_id)
        if paper is None:
            missing.append((sub, f"arXiv has no paper {sub.paper_id}: check the id"))
        else:
            entry = FeedEntry(day=today, source="user", submitted_by=sub.submitted_by)
            hits.append((sub, replace(paper, entry=entry)))
    done = set(store.complete_submissions(claim, hits, missing, recorded.run))
    result.stored = [s.paper_id for s, _ in hits if s.id in done]
    result.unknown = [s.paper_id for s, _ in missing if s.id in done]


# -- `paperboy submissions run` ----------------------------------------------------------------
@dataclass
class DrainReport:
    batches: list[Batch] = field(default_factory=list)
    waiting: int = 0  # still queued (a failed fetch's retry is not due yet)
    next_due: str | None = None

    def summary(self) -> str:
        stored = sum(len(b.stored) for b in self.batches)
        unknown = sum(len(b.unknown) for b in self.batches)
        given_up = sum(b.given_up for b in self.batches)
        text = f"stored {stored}, unknown on arXiv {unknown}, failed for good {given_up}"
        if self.waiting:
            text += f"; {self.waiting} wait for another try (next at {self.next_due})"
        return text

    @property
    def problems(self) -> list[str]:
        return [b.problem for b in self.batches if b.problem]


def drain(store, settings: Settings) -> DrainReport:
    """Fetch every submission that is due, batch by batch, then stop (the CLI command).
    `QueueBusy` when another live worker holds the queue: it will fetch them."""
    from paperboy.sources.http import PoliteClient

    lock = QueueLock(store)
    current = lock.acquire()
    if current is not None:
        raise QueueBusy(
            f"the submissions queue is being worked on by pid {current.get('pid')} on "
            f"{current.get('host')} (since {current.get('since')}); it fetches them"
        )
    report = DrainReport()
    try:
        store.requeue_abandoned()
        # One index update after the last batch; a failed one is logged, the papers stay.
        with PoliteClient(settings) as client, one_index_update(store, settings, quiet=True):
            while (batch := run_batch(store, settings, client)) is not None:
                report.batches.append(batch)
                if batch.problem:
                    break  # arXiv is down: the rest waits for the retry, as the batch does
    finally:
        lock.release()
    report.waiting = store.count_submissions().get("queued", 0)
    report.next_due = store.next_submission_due()
    return report


# -- the worker inside `paperboy serve` --------------------------------------------------------
class SubmissionsWorker:
    """A thread that holds the queue (or waits its turn) and fetches what becomes due."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="paperboy-submissions", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current batch; a batch cut short goes back in the queue on the next
        start (its rows are requeued by whoever holds the queue next)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _open_store(self):
        """The worker's own store; while the database cannot be reached, keep trying."""
        from paperboy.store import StoreError, open_store

        while not self._stop.is_set():
            try:
                return open_store(self.settings)
            except StoreError as exc:
                log.warning("submissions: %s; trying again in 30 s", exc)
                self._stop.wait(30)
        return None

    def _run(self) -> None:
        from paperboy.sources.http import PoliteClient

        store = self._open_store()
        if store is None:
            return
        lock = QueueLock(store)
        try:
            with PoliteClient(self.settings) as client:
                while not self._stop.is_set():
                    self._stop.wait(self._step(store, lock, client))
        finally:
            lock.release()
            store.close()

    def _step(self, store, lock: QueueLock, client) -> float:
        """One turn of the loop; returns how long to wait before the next."""
        try:
            if not lock.held:
                current = lock.acquire()
                if current is not None:
                    return STANDBY_SECONDS
                requeued = store.requeue_abandoned()
                if requeued:
                    log.info(
                        "submissions: %d left by a stopped worker go back in the queue", requeued
                    )
            due = store.next_submission_due()
            if due is None or due > stamp():
                return POLL_SECONDS
            batch = run_batch(store, self.settings, client)
            if batch is None:
                return POLL_SECONDS
            self.batches += 1
            log.info(
                "submissions: stored %d, unknown %d, retry %d, failed %d%s",
                len(batch.stored),
                len(batch.unknown),
                batch.retry,
                batch.given_up,
                f" ({batch.problem})" if batch.problem else "",
            )
            return 0.0
        except Exception:  # a bad turn must not end the thread: log it, try again soon
            log.exception("submissions: worker turn failed")
            try:
                if lock.held:
                    store.requeue_abandoned()
            except Exception:
                log.exception("submissions: cannot put a failed batch back in the queue")
            return 5.0


@contextmanager
def worker_running(settings: Settings):
    """Run the submissions worker for the duration of the block, when `submissions_worker`
    is on (`paperboy serve`'s supervising process)."""
    if not settings.submissions_worker:
        yield None
        return
    worker = SubmissionsWorker(settings)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
