"""The scheduler: when it wakes, what it runs, and that it stops."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from paperboy.config import ConfigError
from paperboy.mail.digests import DigestRunBusy, RunReport
from paperboy.mail.schedule import (
    STATE_KEY,
    DigestScheduler,
    next_wake,
    parse_send_at,
    scheduler_running,
    send_time,
)
from paperboy.store import open_store
from tests.mail_fixtures import mail_settings

UTC = UTC
SEVEN = time(7, 0)
FRI = date(2026, 8, 21)


def at(hour, minute=0, day=FRI):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def test_send_at_is_parsed_or_refused_clearly():
    assert parse_send_at("07:30") == time(7, 30)
    for bad in ("7", "25:00", "seven"):
        with pytest.raises(ConfigError, match="mail_send_at"):
            parse_send_at(bad)


def test_wakes_at_the_hour_and_runs_at_once_when_started_late():
    assert next_wake(at(6), None, SEVEN, UTC) == (at(7), False)
    assert next_wake(at(9), None, SEVEN, UTC) == (at(9), True)  # started after 07:00
    assert next_wake(at(9), FRI, SEVEN, UTC) == (at(7, day=date(2026, 8, 22)), False)


def test_retry_before_the_next_run():
    retry = at(9, 30)
    assert next_wake(at(9), FRI, SEVEN, UTC, retry) == (retry, True)
    assert next_wake(at(10), FRI, SEVEN, UTC, retry) == (at(10), True)


def test_send_time_follows_the_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    assert send_time(FRI, SEVEN, berlin) == at(5)  # CEST is UTC+2 in August


class Runs:
    """Stands in for a digest run: records calls and returns a chosen report."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0
        self.called = threading.Event()

    def __call__(self):
        self.calls += 1
        self.called.set()
        outcome = self.outcomes.pop(0) if self.outcomes else RunReport(FRI)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_tick_remembers_the_day_and_plans_a_retry_when_mail_was_deferred(tmp_path):
    settings = mail_settings(tmp_path, mail_retry_minutes=30)
    deferred = RunReport(FRI, deferred=2)
    runs = Runs(deferred, RunReport(FRI))
    scheduler = DigestScheduler(settings, run=runs, clock=lambda: at(7))
    scheduler.tick()
    assert open_store(settings).get_state(STATE_KEY) == FRI.isoformat()
    assert scheduler.retry_at == at(7, 30)
    scheduler.tick()
    assert scheduler.retry_at is None and runs.calls == 2


def test_a_busy_lock_is_retried_later(tmp_path):
    runs = Runs(DigestRunBusy("another digest run is sending"))
    scheduler = DigestScheduler(mail_settings(tmp_path), run=runs, clock=lambda: at(7))
    assert scheduler.tick() is None and scheduler.retry_at is not None


def test_thread_runs_a_late_start_at_once_and_stops(tmp_path):
    runs = Runs()
    scheduler = DigestScheduler(mail_settings(tmp_path), run=runs, clock=lambda: at(9))
    scheduler.start()
    try:
        assert runs.called.wait(10)
    finally:
        scheduler.stop(timeout=10)
    assert runs.calls == 1  # the day is remembered: no second run on the same day


def test_scheduler_running_only_when_switched_on(tmp_path):
    with scheduler_running(mail_settings(tmp_path)) as off:
        assert off is None
    settings = mail_settings(tmp_path, mail_scheduler=True, mail_send_at="23:59")
    with scheduler_running(settings) as on:
        assert isinstance(on, DigestScheduler) and on._thread.is_alive()
    assert on._thread is None


def test_bad_time_zone_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="mail_timezone"):
        DigestScheduler(mail_settings(tmp_path, mail_timezone="Mars/Olympus"))


def test_scheduled_run_sends_real_digests(papers_store, smtp_sink, data_dir, database_url):
    sink = smtp_sink()
    settings = mail_settings(data_dir, sink.port, database_url=database_url)
    sub, _ = papers_store.request_subscription("ada@example.org", "", "daily", True, [], "n")
    papers_store.confirm_subscriber(sub.id, "n")
    scheduler = DigestScheduler(settings, clock=lambda: at(7) + timedelta(minutes=1))
    report = scheduler.tick()
    assert report.sent == 1 and sink.count() == 1
