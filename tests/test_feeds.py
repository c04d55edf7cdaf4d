"""Feed periods and the trending formula: pure functions, no I/O."""

from __future__ import annotations

from datetime import date

import pytest

from paperboy import feeds
from paperboy.feeds import (
    BadPeriod,
    parse_day,
    parse_month,
    parse_period,
    parse_week,
    period_of,
    rank_trending,
    trending_score,
)


def test_weeks_are_iso_weeks_monday_to_sunday():
    week = parse_week("2026-W34")
    assert (week.first, week.last) == (date(2026, 8, 17), date(2026, 8, 23))
    assert week.first.weekday() == 0 and week.label == "2026-W34"
    assert parse_week("2026-W53").last == date(2027, 1, 3)  # 2026 has 53 ISO weeks
    with pytest.raises(BadPeriod, match="ISO week"):
        parse_week("2025-W53")  # 2025 has 52


def test_months_and_days():
    feb = parse_month("2028-02")
    assert (feb.first, feb.last) == (date(2028, 2, 1), date(2028, 2, 29))
    assert parse_month("2026-12").last == date(2026, 12, 31)
    assert parse_day("2026-08-21").first == parse_day("2026-08-21").last == date(2026, 8, 21)
    for bad in ("2026-8-21", "2026-02-30", "21/08/2026", ""):
        with pytest.raises(BadPeriod, match="YYYY-MM-DD"):
            parse_day(bad)
    for bad in ("2026-13", "2026-00", "2026/08"):
        with pytest.raises(BadPeriod, match="YYYY-MM"):
            parse_month(bad)


def test_periods_at_the_end_of_the_calendar_do_not_overflow():
    assert parse_month("9999-12").last == date(9999, 12, 31)
    assert parse_week("9999-W52").last == date.max  # the Sunday would be in year 10000
    assert period_of("week", parse_day("9999-12-31").first).last == date.max


def test_one_period_at_most():
    assert parse_period() is None
    assert parse_period(month="2026-08").kind == "month"
    with pytest.raises(BadPeriod, match="only one"):
        parse_period(day="2026-08-21", week="2026-W34")


def test_containing_moves_to_the_period_of_another_day():
    week = period_of("week", date(2026, 8, 21))
    assert week.containing(date(2026, 8, 1)).label == "2026-W31"


def test_trending_score_halves_every_half_life():
    assert trending_score(100, 0) == 100
    assert trending_score(100, 3) == pytest.approx(50)
    assert trending_score(100, 6) == pytest.approx(25)
    assert trending_score(100, -2) == 100  # a future day counts as today


def test_rank_trending_prefers_fresh_votes():
    newest = date(2026, 8, 21)
    items = [
        ("old-big", 100, date(2026, 8, 12)),  # 9 days: 100 / 8 = 12.5
        ("fresh", 20, newest),
        ("mid", 40, date(2026, 8, 18)),
    ]  # 3 days: 20, ties with fresh: newer first
    ranked = rank_trending(items, newest, lambda i: i[1], lambda i: i[2])
    assert [i[0] for i in ranked] == ["fresh", "mid", "old-big"]


def test_a_day_without_papers_shows_the_nearest_day_with_papers():
    days = {date(2026, 8, 14), date(2026, 8, 20), date(2026, 8, 21)}

    def shown(asked):
        return feeds.day_with_papers(
            asked,
            max(days),
            days.__contains__,
            lambda d: max((x for x in days if x < d), default=None),
            lambda d: min((x for x in days if x > d), default=None),
        )

    assert shown(date(2026, 8, 21)) == feeds.ShownDay(date(2026, 8, 21), date(2026, 8, 21))
    weekend = shown(date(2026, 8, 16))  # a Sunday: the Friday before
    assert weekend.day == date(2026, 8, 14) and "Sunday 16 August 2026" in weekend.note
    assert shown(date(2027, 1, 1)).day == date(2026, 8, 21)  # the future: the newest day
    assert "after the newest" in shown(date(2027, 1, 1)).note
    assert shown(date(2020, 1, 1)).day == date(2026, 8, 14)  # before the first: the first
    empty = feeds.day_with_papers(date(2026, 8, 16), None, bool, bool, bool)
    assert empty == feeds.ShownDay(date(2026, 8, 16), date(2026, 8, 16))
