"""Digest periods: which digests are due on a day, their send-log key, the feed days they cover.

Pure functions over dates.

- Daily digests go out on weekdays, like arXiv's announcements. The period is named after the
  latest feed day on or before the run day (`daily:2026-08-21`), so a second run on the same
  day, or one on a day with no new feed day, sends nothing new.
- Weekly digests go out on `mail_weekly_day`; the period is the run day's ISO week
  (`weekly:2026-W34`).
- A digest covers the feed days after the last day its subscriber's previous digest covered,
  up to the period's last feed day, reaching back at most `catch_up_days` (a weekly
  digest at least a week). A first digest
  covers the last feed day (daily) or the last seven days (weekly).
"""

from __future__ import annotations

from datetime import date, timedelta

from paperboy.config import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekday_number(name: str) -> int:
    try:
        return WEEKDAYS.index(name.strip().lower())
    except ValueError:
        raise ConfigError(
            f"setting 'mail_weekly_day' must be a weekday name (monday .. sunday), got {name!r}"
        ) from None


def due_frequencies(day: date, weekly_day: str) -> list[str]:
    """The digest frequencies that go out on `day`."""
    due = []
    if day.weekday() < 5:
        due.append("daily")
    if day.weekday() == weekday_number(weekly_day):
        due.append("weekly")
    return due


def period_key(frequency: str, day: date, last_feed_day: date) -> str:
    if frequency == "daily":
        return f"daily:{last_feed_day.isoformat()}"
    year, week, _ = day.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def window(
    frequency: str, covered_through: date | None, last_feed_day: date, catch_up_days: int
) -> tuple[date, date] | None:
    """The feed days (first, last) a digest covers, or None when nothing is new."""
    if covered_through is None:
        first = last_feed_day if frequency == "daily" else last_feed_day - timedelta(days=6)
    else:
        first = covered_through + timedelta(days=1)
    reach = max(catch_up_days, 7 if frequency == "weekly" else 1)  # a week fits a weekly one
    first = max(first, last_feed_day - timedelta(days=reach - 1))
    if first > last_feed_day:
        return None
    return first, last_feed_day
