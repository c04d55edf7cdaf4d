"""Feed periods and rankings: which days a page covers, and how trending is scored.

Pure functions over plain values (no I/O), shared by the web pages, the JSON API, Atom and
the CLI (`shown_day` alone asks a store, in its domain words, which days have papers):

    period = parse_period(week="2026-W34")      # Period(kind="week", first=..., last=...)
    trending_score(votes=120, age_days=2)       # 120 * 2 ** (-2 / HALF_LIFE_DAYS)
    trending_score(120, 2, stars_per_day=50)    # (120 + 0.1 * 50) * 2 ** (-2 / 3)
    day_with_papers(saturday, newest, ...)      # ShownDay(day=friday, asked=saturday, note=...)

Votes: every surface (web pages, JSON API, Atom, the digest mail and its top papers,
`paperboy papers`) shows and ranks by one count, `shown_votes`: the upstream upvotes (Hugging
Face) plus the votes cast here. The store's feed queries (`ranked_between`, and
`papers_between` over it) order by that same sum.

Trending: score = (votes + 0.1 × stars per day) × 2^(−age / 3 days), where votes are upstream
plus local upvotes, stars per day is how fast the paper's GitHub repository gained stars over
its last week of counts (store/media.py; 0 without a repository or with one count), and age is
the number of days between the day the paper entered the feed and the newest feed day. So a
repository gaining 10 stars a day weighs as much as one upvote (STAR_WEIGHT).
A paper's score halves every three days; only the last TRENDING_WINDOW_DAYS feed days count.
Because the decay is exponential, the order does not depend on when the page is rendered.
`trending(store)` is the one pipeline the trending page, its Atom feed and the API's
`sort=trending` share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from paperboy.papers import Paper
from paperboy.store.media import Stars

HALF_LIFE_DAYS = 3.0
STAR_WEIGHT = 0.1  # upvotes one star a day of repository growth is worth
TRENDING_WINDOW_DAYS = 14

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class BadPeriod(ValueError):
    """A date, week or month a user typed that we cannot use; the message says the format."""


@dataclass(frozen=True)
class Period:
    """The days a feed page covers: one day, one ISO week (Monday..Sunday) or one month."""

    kind: str  # "day", "week", "month"
    first: date
    last: date

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return self.first.strftime("%Y-%m")

    def containing(self, day: date) -> Period:
        """The period of the same kind that contains `day`."""
        return period_of(self.kind, day)


def period_of(kind: str, day: date) -> Period:
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period("week", monday, _days_after(monday, 6))
    first = day.replace(day=1)
    if first.month == 12:
        return Period("month", first, first.replace(day=31))
    return Period("month", first, first.replace(month=first.month + 1) - timedelta(days=1))


def _days_after(day: date, days: int) -> date:
    """`day` plus `days`, stopping at date.max: the last ISO week of 9999 ends in year 10000,
    which Python cannot represent, and a page for it must not fail."""
    return date.fromordinal(min(day.toordinal() + days, date.max.toordinal()))


def parse_day(text: str) -> Period:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return period_of("day", date.fromisoformat(text))
    except ValueError:
        raise BadPeriod(f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2026-08-21") from None


def parse_week(text: str) -> Period:
    m = _WEEK.fullmatch(text)
    try:
        if not m:
            raise ValueError
        return period_of("week", date.fromisocalendar(int(m[1]), int(m[2]), 1))
    except ValueError:
        raise BadPeriod(
            f"{text!r} is not an ISO week; expected YYYY-Www with a week that exists in that "
            "year, e.g. 2026-W34"
        ) from None


def parse_month(text: str) -> Period:
    m = _MONTH.fullmatch(text)
    try:
        if not m:
            raise ValueError
        return period_of("month", date(int(m[1]), int(m[2]), 1))
    except ValueError:
        raise BadPeriod(f"{text!r} is not a month; expected YYYY-MM, e.g. 2026-08") from None


def parse_period(
    day: str | None = None, week: str | None = None, month: str | None = None
) -> Period | None:
    """The period named by at most one of date/week/month; None when none is given."""
    given = [(k, v) for k, v in (("date", day), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise BadPeriod("give only one of date, week or month")
    if not given:
        return None
    kind, value = given[0]
    return {"date": parse_day, "week": parse_week, "month": parse_month}[kind](value)


@dataclass(frozen=True)
class ShownDay:
    """The day a daily page shows for the day asked for, and a note when they differ."""

    day: date
    asked: date
    note: str | None = None


def day_with_papers(
    asked: date, newest: date | None, has_papers, day_before, day_after
) -> ShownDay:
    """The day to show for `asked`, as Hugging Face does: a day without papers (a weekend, a
    holiday) shows the previous day that has some, a day after the newest shows the newest,
    and a day before the first shows the first. `has_papers(day)`, `day_before(day)` and
    `day_after(day)` answer from the store; `newest` is None when the feed is empty."""
    if newest is None:
        return ShownDay(asked, asked)
    if asked > newest:
        return ShownDay(
            newest,
            asked,
            f"{_long(asked)} is after the newest day with papers: showing {_long(newest)}.",
        )
    if has_papers(asked):
        return ShownDay(asked, asked)
    before = day_before(asked)
    if before is not None:
        return ShownDay(
            before,
            asked,
            f"No papers entered the feed on {_long(asked)}: showing "
            f"{_long(before)}, the closest earlier day with papers.",
        )
    after = day_after(asked)
    return ShownDay(
        after, asked, f"{_long(asked)} is before the first day with papers: showing {_long(after)}."
    )


def shown_day(store, asked: date) -> ShownDay:
    """`day_with_papers` answered from a store (the daily page, the API and the CLI)."""
    return day_with_papers(
        asked,
        store.latest_day(),
        lambda day: store.count_between(day, day) > 0,
        store.day_before,
        store.day_after,
    )


def _long(day: date) -> str:
    return day.strftime("%A %-d %B %Y")


def trending_score(
    votes: int, age_days: float, half_life: float = HALF_LIFE_DAYS, stars_per_day: float = 0.0
) -> float:
    """Upvotes plus weighted star growth, decayed by age: halves every `half_life` days."""
    weight = votes + STAR_WEIGHT * max(stars_per_day, 0.0)  # a repository losing stars: 0
    return weight * 2.0 ** (-max(age_days, 0.0) / half_life)


def rank_trending(items: list, newest: date, votes_of, day_of, stars_of=lambda item: 0.0) -> list:
    """Items ordered by trending score, highest first; ties keep the newest, then the id order.

    `votes_of(item)`, `day_of(item)` and `stars_of(item)` read an item's shown votes, feed day
    and stars gained per day, so the same ranking serves cards, API items and Atom entries.
    """

    def key(item):
        age = (newest - day_of(item)).days
        score = trending_score(votes_of(item), age, stars_per_day=stars_of(item))
        return (-score, -day_of(item).toordinal())

    return sorted(items, key=key)


def trending_window(newest: date) -> tuple[date, date]:
    return newest - timedelta(days=TRENDING_WINDOW_DAYS - 1), newest


def trending(
    store, window: tuple[date, date] | None = None, newest: date | None = None
) -> list[tuple[Paper, int]]:
    """The trending ranking as (paper, local votes) pairs, highest score first: the feed
    papers of `window` (default: the last TRENDING_WINDOW_DAYS feed days), aged from the
    newest feed day (or the window's last day, when earlier)."""
    newest = newest or store.latest_day()
    if newest is None:
        return []
    first, last = window or trending_window(newest)
    ranked = store.ranked_between(first, last)
    stars = Stars(store).of_papers(paper for paper, _ in ranked)
    return rank_trending(
        ranked,
        min(newest, last),
        lambda pair: shown_votes(*pair),
        lambda pair: pair[0].entry.day,
        lambda pair: stars[pair[0].id].per_day if pair[0].id in stars else 0.0,
    )


# -- votes -------------------------------------------------------------------------------------
def shown_votes(paper: Paper, local: int) -> int:
    """The votes a paper shows and ranks by everywhere: upstream upvotes plus local votes."""
    return (paper.upvotes or 0) + local


def with_shown_votes(ranked: Iterable[tuple[Paper, int]]) -> list[Paper]:
    """(paper, local votes) pairs as papers whose `upvotes` is the shown count, for the
    surfaces that render a bare Paper (the digest mail, `paperboy papers`). Copies to show,
    never to store: the stored `upvotes` stays the upstream count."""
    return [
        replace(paper, upvotes=shown_votes(paper, local)) if local else paper
        for paper, local in ranked
    ]
