"""Sending digests on a schedule from inside a long-running process (`paperboy serve`).

    with scheduler_running(settings):      # in the web app's lifespan; no-op unless
        ...                                # the setting mail_scheduler is true

A background thread runs a digest run every day at `mail_send_at` (HH:MM in `mail_timezone`).
A run that ended with deferred mail (or could not reach the SMTP server) is retried every
`mail_retry_minutes` until the next day's run. A process started after today's hour runs at
once: the send log makes a second run on a day harmless (it sends only what is missing), and
the store lock keeps two processes from sending at the same time.

The same thread sends the reply notices that are due (mail/replies.py): at its start (those a
stopped server left queued) and then at least every REPLIES_EVERY seconds (deferred ones).

Cron or a systemd timer can run `paperboy digest send` instead (docs/mail.md).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from paperboy.config import ConfigError, Settings
from paperboy.mail.digests import mail_timezone

log = logging.getLogger("paperboy.mail")
STATE_KEY = "mail:scheduler:last_day"
REPLIES_EVERY = 600.0  # seconds: the longest the thread sleeps between looks at the queue


def parse_send_at(text: str) -> time:
    try:
        hour, minute = (int(part) for part in text.strip().split(":"))
        return time(hour, minute)
    except ValueError:
        raise ConfigError(f"setting 'mail_send_at' must be HH:MM (24-hour), got {text!r}") from None


def send_time(day: date, send_at: time, tz) -> datetime:
    """The moment of `day`'s run, as an aware datetime in UTC."""
    return datetime.combine(day, send_at, tzinfo=tz).astimezone(UTC)


def next_wake(
    now: datetime, last_day: date | None, send_at: time, tz, retry_at: datetime | None = None
) -> tuple[datetime, bool]:
    """(when to wake, whether that wake is a run) for the scheduler's current state."""
    today = now.astimezone(tz).date()
    due_today = send_time(today, send_at, tz)
    if (last_day is None or last_day < today) and now >= due_today:
        return now, True
    upcoming = due_today if now < due_today else send_time(today + timedelta(days=1), send_at, tz)
    if retry_at is not None and retry_at < upcoming:
        return (max(retry_at, now), True)
    return upcoming, False


class DigestScheduler:
    def __init__(
        self,
        settings: Settings,
        run=None,
        clock=lambda: datetime.now(UTC),
        replies_every: float = REPLIES_EVERY,
    ):
        self.settings = settings
        self.replies_every = replies_every
        self.send_at = parse_send_at(settings.mail_send_at)
        self.tz = mail_timezone(settings)
        self._run = run or self._run_digests
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store = None
        self.retry_at: datetime | None = None
        self.runs = 0

    def _store_for_thread(self):
        if self._store is None:
            from paperboy.store import open_store

            self._store = open_store(self.settings)
        return self._store

    def _run_digests(self):
        from paperboy.mail.digests import DigestRun

        return DigestRun(self._store_for_thread(), self.settings, clock=self._clock).run()

    # -- the thread --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="paperboy-digests", daemon=True)
        self._thread.start()
        log.info(
            "digest scheduler: daily at %s %s",
            self.settings.mail_send_at,
            self.settings.mail_timezone,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop; a run in progress finishes its current message first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _last_day(self) -> date | None:
        value = self._store_for_thread().get_state(STATE_KEY)
        return date.fromisoformat(value) if value else None

    def _send_replies(self) -> None:
        from paperboy.mail.replies import send_queued_replies

        try:
            report = send_queued_replies(self._store_for_thread(), self.settings)
        except Exception:  # the digests must not stop for it: log, the queue keeps them
            log.exception("digest scheduler: sending reply notices failed")
            return
        if report.handled:
            log.info("digest scheduler: %s", report.summary())

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._send_replies()
            try:
                now = self._clock()
                wake, run = next_wake(now, self._last_day(), self.send_at, self.tz, self.retry_at)
                if not run:
                    # Wake at least every replies_every seconds: for the reply notices, and
                    # the clock may jump (suspend, NTP).
                    wait = (wake - now).total_seconds()
                    self._stop.wait(min(max(wait, 0.05), self.replies_every))
                    continue
                self.tick()
            except Exception:  # a bad run must not kill the thread: log it, try again later
                log.exception("digest scheduler: run failed")
                self.retry_at = self._clock() + timedelta(minutes=self.settings.mail_retry_minutes)
                self._stop.wait(1.0)

    def tick(self):
        """One scheduled run: run the digests, remember the day, plan a retry if needed."""
        today = self._clock().astimezone(self.tz).date()
        self.runs += 1
        try:
            report = self._run()
        except Exception as exc:
            from paperboy.mail.digests import DigestRunBusy

            if not isinstance(exc, DigestRunBusy):
                raise
            log.info("digest scheduler: %s", exc)
            report = None
        self._store_for_thread().set_state(STATE_KEY, today.isoformat())
        unfinished = report is None or report.deferred or report.stopped
        if report is not None:
            log.info("digest scheduler: %s", report.summary())
        self.retry_at = (
            self._clock() + timedelta(minutes=self.settings.mail_retry_minutes)
            if unfinished
            else None
        )
        return report


@contextmanager
def scheduler_running(settings: Settings):
    """Run the digest scheduler for the duration of the block when `mail_scheduler` is on."""
    if not settings.mail_scheduler:
        yield None
        return
    scheduler = DigestScheduler(settings)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
