"""A digest run: every due subscriber gets this period's digest exactly once.

    report = DigestRun(store, settings).run()            # what `paperboy digest send` does
    print(report.summary())

The send log (one row per subscriber and period) is the whole protocol:

1. Before the SMTP transaction the row is written as `sending` (with the Message-ID) and
   committed. A row already `sent`, `rejected` or `empty` means that digest is done: skipped.
2. After the server accepted the message, the row becomes `sent` in the same transaction that
   records the papers it carried and the feed days it covered. A transient failure makes it
   `deferred`; a permanent one `rejected` (and counts towards `mail_bounce_limit`).
3. A row still `sending` when a run starts was claimed by a run that died (`kill -9`, power
   loss): in flight, or composed and waiting for its turn. It is sent again, with the same
   Message-ID.

So after a crash every subscriber gets the digest once, except possibly the one message that
was in flight: if the server had accepted it but the run died before writing `sent`, it is
delivered twice (same Message-ID, which many clients fold into one). Sending an unrecorded
message again is the only safe choice: the alternative loses mail silently.

Messages go out over one SMTP connection, one at a time, from a thread of their own (the
`Outbox`) while the next few are composed: at most one message is ever in flight. The few
composed and claimed but not yet handed to the server are simply sent by the next run.

Runs do not overlap: a run holds a lock in the store (released at the end; a lock whose
process is gone is taken over), so two schedulers or a cron job and a scheduler cannot both
send.

Work is shared between subscribers: each distinct saved query is searched once per run (not
once per subscriber), each window's top papers are read once, and each paper's HTML and text
blocks are rendered once.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperboy.config import ConfigError, Settings
from paperboy.feeds import with_shown_votes
from paperboy.mail.backends import postman_for
from paperboy.mail.compose import Composer, Digest, select_digest
from paperboy.mail.links import Links
from paperboy.mail.periods import due_frequencies, period_key, window
from paperboy.mail.send import Deferred, Postman, Rejected, SMTPUnavailable
from paperboy.papers import Paper
from paperboy.system import pid_alive

LOCK = "digest-run"
HEARTBEAT_SECONDS = 15
STALE_SECONDS = 600  # a holder on another host that has not beaten for this long is gone
TOPIC_CANDIDATES = 500  # hits asked of the search engine per saved query
# Papers sent are remembered this many days beyond the farthest a digest reaches back
# (then dropped, so the table stays the size of a few weeks of mail).
FORGET_AFTER_DAYS = 30


class DigestRunBusy(RuntimeError):
    """Another digest run holds the lock."""


class NotSubscribed(ValueError):
    """`--to ADDRESS` names no active subscriber."""


def mail_timezone(settings: Settings):
    name = settings.mail_timezone.strip() or "UTC"
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"setting 'mail_timezone' is not a known time zone: {name!r} "
            "(use a name like Europe/Berlin, or UTC)"
        ) from None


@dataclass
class RunReport:
    day: date
    dry_run: bool = False
    last_feed_day: date | None = None
    frequencies: list[str] = field(default_factory=list)
    due: int = 0  # subscribers with a digest due
    done_before: int = 0  # already sent, rejected or empty for this period
    sent: int = 0  # (in a dry run: would be sent)
    empty: int = 0  # nothing new for them: no mail
    deferred: int = 0
    rejected: int = 0
    now_bouncing: int = 0
    resent: int = 0  # in flight when an earlier run died, sent again
    queries: int = 0  # distinct saved queries searched
    papers: int = 0  # papers in the mails sent
    search_seconds: float = 0.0  # evaluating the distinct saved queries
    compose_seconds: float = 0.0
    send_seconds: float = 0.0
    for_you_seconds: float = 0.0  # ranking "For you" (part of compose_seconds)
    elapsed: float = 0.0
    stopped: str | None = None  # why the run ended early

    def summary(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        parts = [f"{verb} {self.sent}", f"nothing new for {self.empty}"]
        if not self.dry_run:
            parts += [f"deferred {self.deferred}", f"rejected {self.rejected}"]
        if self.done_before:
            parts.append(f"already done {self.done_before}")
        if self.resent:
            parts.append(f"resent after a crash {self.resent}")
        if self.now_bouncing:
            parts.append(f"now bouncing {self.now_bouncing}")
        feed = self.last_feed_day.isoformat() if self.last_feed_day else "none"
        text = (
            f"digests for {self.day.isoformat()} ({', '.join(self.frequencies) or 'none due'};"
            f" feed through {feed}): {', '.join(parts)}; {self.queries} topic queries, "
            f"{self.elapsed:.1f}s"
        )
        if self.stopped:
            text += f"\nstopped early: {self.stopped}"
        return text


class DigestRun:
    def __init__(
        self,
        store,
        settings: Settings,
        search=None,
        postman: Postman | None = None,
        links: Links | None = None,
        clock=lambda: datetime.now(UTC),
    ):
        self.store = store
        self.settings = settings
        self._search = search
        self._postman = postman
        self.links = links or Links(settings)
        self._clock = clock

    @property
    def search(self):
        if self._search is None:
            from paperboy.search import open_search

            self._search = open_search(self.store, self.settings)
        return self._search

    def today(self) -> date:
        return self._clock().astimezone(mail_timezone(self.settings)).date()

    # -- the run -----------------------------------------------------------------------------
    def run(
        self,
        day: date | None = None,
        dry_run: bool = False,
        only: str | None = None,
        on_message: Callable[[object, bytes], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> RunReport:
        """Send the digests due on `day` (default: today in mail_timezone).

        `only` limits the run to one subscriber's address (whatever the weekday);
        `dry_run` composes everything and sends and records nothing; `on_message` sees each
        composed message.
        """
        started = time.perf_counter()
        day = day or self.today()
        report = RunReport(day, dry_run)
        report.last_feed_day = self.store.day_before(day + timedelta(days=1))
        if only is not None:
            subscriber = self.store.subscriber_by_email(only)
            if subscriber is None or subscriber.status != "active":
                raise NotSubscribed(
                    f"{only} is not an active subscriber (see `paperboy subscribers`)"
                )
            report.frequencies = [subscriber.frequency]
        else:
            report.frequencies = due_frequencies(day, self.settings.mail_weekly_day)
        if report.last_feed_day is None:
            report.stopped = f"no papers in the feed on or before {day.isoformat()}"
            return report
        if not report.frequencies:
            return report
        holder = None if dry_run else self._lock()
        try:
            self._send_all(report, only, on_message, on_progress, holder)
            if holder is not None:
                self.store.forget_sent_papers(
                    report.last_feed_day
                    - timedelta(days=max(self.settings.mail_catch_up_days, 7) + FORGET_AFTER_DAYS)
                )
        finally:
            if holder is not None:
                self.store.release_lock(LOCK, holder["id"])
            report.elapsed = time.perf_counter() - started
        return report

    def _lock(self) -> dict:
        holder = {
            "id": uuid.uuid4().hex,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": self._clock().isoformat(timespec="seconds"),
            "beat": time.time(),
        }
        current = self.store.take_lock(LOCK, holder, self._stale)
        if current is not None:
            raise DigestRunBusy(
                f"another digest run is sending (pid {current.get('pid')} on "
                f"{current.get('host')}, since {current.get('since')}); try again when it ends"
            )
        return holder

    def _beat(self, holder: dict) -> None:
        holder["beat"] = time.time()
        mine = holder["id"]
        self.store.take_lock(LOCK, holder, lambda rec: rec.get("id") == mine or self._stale(rec))

    @staticmethod
    def _stale(record: dict) -> bool:
        here = record.get("host") == socket.gethostname()
        if here and isinstance(record.get("pid"), int) and not pid_alive(record["pid"]):
            return True
        return time.time() - float(record.get("beat", 0)) > STALE_SECONDS

    def _plans(self, report: RunReport, only: str | None) -> list[tuple]:
        """(subscriber, period, window) for each subscriber whose digest is still to do."""
        subscribers = self.store.due_subscribers(report.frequencies, email=only)
        report.due = len(subscribers)
        done: dict[str, set[int]] = {}
        plans = []
        for sub in subscribers:
            period = period_key(sub.frequency, report.day, report.last_feed_day)
            if period not in done:
                done[period] = self.store.finished_sends(period)
            if sub.id in done[period]:
                report.done_before += 1
                continue
            days = window(
                sub.frequency,
                sub.covered_through,
                report.last_feed_day,
                self.settings.mail_catch_up_days,
            )
            plans.append((sub, period, days))
        return plans

    def _send_all(self, report: RunReport, only, on_message, on_progress, holder) -> None:
        plans = self._plans(report, only)
        if not plans:
            return
        windows = [days for _, _, days in plans if days is not None]
        earliest = min((first for first, _ in windows), default=report.last_feed_day)
        candidates = Candidates(
            self.store, self.search, self.settings, earliest, report.last_feed_day
        )
        candidates.find_accounts((sub.email, days) for sub, _, days in plans if days)
        # Each distinct saved query is searched once, up front, for all subscribers.
        t0 = time.perf_counter()
        for query in sorted({q for sub, _, days in plans if days for q in sub.topics}):
            candidates.topic(query)
        report.search_seconds = time.perf_counter() - t0
        report.queries = candidates.queries
        composer = Composer(self.settings, self.links)
        outbox = None if report.dry_run else Outbox(self, report, on_message)
        last_beat = time.monotonic()
        try:
            for number, (sub, period, days) in enumerate(plans, 1):
                if on_progress is not None:
                    on_progress(number - 1, len(plans))
                if outbox is not None and outbox.stopped.is_set():
                    break
                if holder is not None and time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    self._beat(holder)
                    last_beat = time.monotonic()
                self._compose(report, sub, period, days, candidates, composer, outbox, on_message)
        finally:
            if outbox is not None:
                outbox.close()
        if on_progress is not None:
            on_progress(len(plans), len(plans))

    def _compose(self, report, sub, period, days, candidates, composer, outbox, on_message) -> None:
        """Choose and compose one subscriber's digest; claim it and hand it to the outbox."""
        t0 = time.perf_counter()
        digest = None
        if days is not None:
            top = candidates.top(days) if sub.include_top else []
            hits = {q: candidates.topic(q) for q in sub.topics}
            t1 = time.perf_counter()
            mine = candidates.for_you(sub, days)
            report.for_you_seconds += time.perf_counter() - t1
            ids = {p.id for p in top} | {p.id for papers in hits.values() for p in papers}
            ids |= {p.id for p, _ in mine}
            already = self.store.sent_paper_ids(sub.id, ids) if ids else set()
            digest = select_digest(
                sub,
                period,
                days,
                top,
                hits,
                already,
                self.settings.mail_digest_size,
                self.settings.mail_topic_size,
                mine,
            )
        if digest is None or digest.empty:
            report.empty += 1
            if outbox is not None:
                self.store.record_empty(sub.id, period, report.last_feed_day)
        elif outbox is None:  # dry run
            message = composer.digest(sub, digest, composer.message_id(), self._clock())
            _count_sent(report, digest, on_message, sub, message)
        else:
            claim = self.store.claim_send(sub.id, period, composer.message_id())
            if claim is None:  # finished meanwhile (a run racing us before the lock existed)
                report.done_before += 1
            else:
                if claim.previous == "sending":
                    report.resent += 1
                message = composer.digest(sub, digest, claim.message_id, self._clock())
                report.compose_seconds += time.perf_counter() - t0
                outbox.put((sub, period, digest, message))
                return
        report.compose_seconds += time.perf_counter() - t0


def _count_sent(report: RunReport, digest: Digest, on_message, sub, message: bytes) -> None:
    report.sent += 1
    report.papers += len(digest.papers)
    if on_message is not None:
        on_message(sub, message)


class Outbox:
    """Sends composed digests on a thread of its own while the next ones are composed.

    One SMTP connection, one message at a time: at most one message is ever in flight, which
    is what bounds the duplicates after a crash. A few composed messages wait in the queue;
    they are claimed (`sending`) but not yet sent, so a crash leaves them to be sent by the
    next run, never twice.
    """

    DEPTH = 4

    def __init__(self, run: DigestRun, report: RunReport, on_message):
        self.run, self.report, self.on_message = run, report, on_message
        self.store, self.settings = run.store, run.settings
        self.postman = run._postman or postman_for(self.settings)
        self._own_postman = run._postman is None
        self.queue: queue.Queue = queue.Queue(self.DEPTH)
        self.stopped = threading.Event()  # the SMTP server cannot be used: stop composing
        self.failure: BaseException | None = None
        self.thread = threading.Thread(
            target=self._deliver_all, name="paperboy-outbox", daemon=True
        )
        self.thread.start()

    def put(self, item) -> None:
        while True:
            if self.stopped.is_set() or not self.thread.is_alive():
                self._defer(item, self.report.stopped or "the run stopped before sending it")
                return
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait until every queued message is sent or deferred; re-raise a sender failure."""
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()
        self._drain()
        if self._own_postman:
            self.postman.close()
        if self.failure is not None:
            raise self.failure

    def _drain(self) -> None:
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._defer(item, self.report.stopped or "the run stopped before sending it")

    def _defer(self, item, reason: str) -> None:
        sub, period, _, _ = item
        self.store.record_deferred(sub.id, period, None, reason)
        self.report.deferred += 1

    def _deliver_all(self) -> None:
        try:
            while True:
                item = self.queue.get()
                if item is None:
                    return
                if self.stopped.is_set():
                    self._defer(item, self.report.stopped)
                    continue
                self._deliver(item)
        except BaseException as exc:  # surfaced by close() in the composing thread
            self.failure = exc
            self.stopped.set()
        finally:
            self.store.close_thread()  # this sending thread is done with the store

    def _deliver(self, item) -> None:
        sub, period, digest, message = item
        report = self.report
        t0 = time.perf_counter()
        try:
            self.postman.send(sub.email, message)
        except Rejected as exc:
            status = self.store.record_rejected(
                sub.id, period, exc.code, str(exc), self.settings.mail_bounce_limit
            )
            report.rejected += 1
            report.now_bouncing += status == "bouncing"
        except Deferred as exc:
            self.store.record_deferred(sub.id, period, exc.code, str(exc))
            report.deferred += 1
        except SMTPUnavailable as exc:
            self.store.record_deferred(sub.id, period, exc.code, str(exc))
            report.deferred += 1
            report.stopped = f"{exc}. Sent {report.sent}; the next run sends the rest."
            self.stopped.set()
        else:
            self.store.record_sent(
                sub.id, period, [p.id for p in digest.papers], report.last_feed_day
            )
            _count_sent(report, digest, self.on_message, sub, message)
        finally:
            report.send_seconds += time.perf_counter() - t0


class Candidates:
    """The papers digests choose from, computed once per run and shared by all subscribers."""

    def __init__(self, store, search, settings: Settings, first: date, last: date):
        self.store = store
        self.search = search
        self.settings = settings
        self.first, self.last = first, last
        self._top: dict[tuple[date, date], list[Paper]] = {}
        self._topics: dict[str, list[Paper]] = {}
        self._papers: dict[str, Paper] = {}  # one object per paper across all lists
        self._accounts: dict[str, int] = {}  # subscriber address -> user id
        self._batch = None  # foryou.Batch over those accounts
        self.queries = 0

    def find_accounts(self, wanted) -> None:
        """Which subscribers have an account here (by verified address), read once per run;
        `wanted`: (address, window) of each subscriber to be sent a digest."""
        from paperboy.foryou import Batch
        from paperboy.store.library import Library

        wanted = list(wanted)
        self._accounts = Library(self.store).accounts_by_email(e for e, _ in wanted)
        if self._accounts:
            needs: dict[int, set] = {}
            for email, days in wanted:
                user_id = self._accounts.get(email.lower())
                if user_id is not None:
                    needs.setdefault(user_id, set()).add(days)
            self._batch = Batch(self.store, self.search, needs, needs)

    def for_you(self, sub, days: tuple[date, date]) -> list[tuple[Paper, str]]:
        """(paper, reason) ranked for the subscriber's account (paperboy/foryou.py); empty
        without an account or seeds. All accounts' seeds are read at once and each fit is a
        mean and a product (foryou.Batch), so this costs milliseconds per subscriber."""
        user_id = self._accounts.get(sub.email.lower())
        if user_id is None or self._batch is None:
            return []
        limit = self.settings.mail_topic_size * 3 + 10  # enough to skip those sent before
        found = self._batch.picks(user_id, days, limit)
        local = self.store.local_votes(p.id for p, _ in found) if found else {}
        shown = with_shown_votes((p, local.get(p.id, 0)) for p, _ in found)
        return [(self._shared(p), why) for p, (_, why) in zip(shown, found, strict=True)]

    def _shared(self, paper: Paper) -> Paper:
        return self._papers.setdefault(paper.id, paper)

    def top(self, days: tuple[date, date]) -> list[Paper]:
        """The window's feed papers, most votes first (enough to skip those sent before), with
        the votes the site shows (feeds.shown_votes), so a digest and the site agree."""
        found = self._top.get(days)
        if found is None:
            limit = self.settings.mail_digest_size * 3 + 10
            ranked = with_shown_votes(self.store.ranked_between(*days, limit=limit))
            found = [self._shared(p) for p in ranked]
            self._top[days] = found
        return found

    def topic(self, query: str) -> list[Paper]:
        """Feed papers of this run's days that match a saved query, best score first."""
        found = self._topics.get(query)
        if found is None:
            found = self._search_feed(query)
            self._topics[query] = found
            self.queries += 1
        return found

    def _search_feed(self, query: str) -> list[Paper]:
        from paperboy.search import Filters

        # A paper enters the feed days or weeks after it was published: search back that far.
        since = self.first - timedelta(days=self.settings.mail_topic_published_days)
        result = self.search.search(
            query,
            Filters(date_from=since, date_to=self.last),
            sort="relevance",
            limit=TOPIC_CANDIDATES,
            highlight=False,
        )
        # An alert is for papers that match the saved search: ones found only because their
        # meaning is near (semantic-only hits) rank a web search, but are not mailed.
        papers = [hit.paper for hit in result.hits if hit.matched]
        missing = [p.id for p in papers if p.entry is None]
        if missing:  # an engine may return papers without their feed entry: read it
            stored = self.store.get_many(missing)
            papers = [stored.get(p.id, p) if p.entry is None else p for p in papers]
        papers = [
            p for p in papers if p.entry is not None and self.first <= p.entry.day <= self.last
        ]
        local = self.store.local_votes(p.id for p in papers) if papers else {}
        return [self._shared(p) for p in with_shown_votes((p, local.get(p.id, 0)) for p in papers)]
