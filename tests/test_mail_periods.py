"""Digest periods: due days, send-log keys, and the feed days a digest covers."""

from datetime import date

import pytest

from paperboy.config import ConfigError
from paperboy.mail.periods import due_frequencies, period_key, window

FRI, SAT, MON = date(2026, 8, 21), date(2026, 8, 22), date(2026, 8, 24)


def test_daily_goes_out_on_weekdays_weekly_on_its_day():
    assert due_frequencies(FRI, "monday") == ["daily"]
    assert due_frequencies(SAT, "monday") == []
    assert due_frequencies(MON, "monday") == ["daily", "weekly"]
    assert due_frequencies(SAT, "Saturday") == ["weekly"]


def test_a_bad_weekday_setting_is_a_clear_error():
    with pytest.raises(ConfigError, match="mail_weekly_day"):
        due_frequencies(FRI, "funday")


def test_period_keys():
    assert period_key("daily", MON, FRI) == "daily:2026-08-21"
    assert period_key("weekly", MON, FRI) == "weekly:2026-W35"
    assert period_key("weekly", date(2026, 8, 30), FRI) == "weekly:2026-W35"


def test_first_digest_covers_the_last_day_or_week():
    assert window("daily", None, FRI, 7) == (FRI, FRI)
    assert window("weekly", None, FRI, 7) == (date(2026, 8, 15), FRI)


def test_next_digest_starts_after_the_last_covered_day():
    # Monday's daily after Friday's: the weekend's feed days too.
    assert window("daily", date(2026, 8, 21), date(2026, 8, 23), 7) == (SAT, date(2026, 8, 23))


def test_nothing_new_means_no_window():
    assert window("daily", FRI, FRI, 7) is None
    assert window("weekly", date(2026, 8, 25), FRI, 7) is None


def test_catch_up_is_bounded():
    assert window("daily", date(2026, 1, 1), FRI, 3) == (date(2026, 8, 19), FRI)
    # A weekly digest always reaches back a week, whatever the catch-up setting.
    assert window("weekly", date(2026, 1, 1), FRI, 1) == (date(2026, 8, 15), FRI)
