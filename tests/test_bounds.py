"""paperboy.bounds: every Paper field is checked, each limit rejects one past it and takes the
limit itself, and docs/security.md states every number the module holds."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from paperboy import bounds
from paperboy.papers import FeedEntry, Paper

DOC = Path(__file__).resolve().parents[1] / "docs" / "security.md"
TODAY = date(2026, 8, 21)
OK = Paper(
    id="2405.15738",
    title="T",
    abstract="A",
    authors=["Ada"],
    categories=["cs.CL"],
    published=date(2024, 5, 24),
    upvotes=3,
    version=2,
    entry=FeedEntry(day=date(2024, 5, 27), source="hf", num_comments=1),
)


def problems(**changes) -> list[str]:
    return bounds.paper_problems(replace(OK, **changes), today=TODAY)


def test_every_paper_field_is_checked():
    assert bounds.checked_fields() == bounds.paper_fields()


def test_a_real_paper_has_no_problems():
    assert problems() == []


@pytest.mark.parametrize(
    "field, limit",
    [
        ("title", bounds.TITLE_CHARS),
        ("abstract", bounds.ABSTRACT_CHARS),
        ("comment", bounds.COMMENT_CHARS),
        ("journal_ref", bounds.JOURNAL_REF_CHARS),
        ("doi", bounds.DOI_CHARS),
        ("license", bounds.LICENSE_CHARS),
        ("code_url", bounds.URL_CHARS),
        ("project_url", bounds.URL_CHARS),
        ("ai_summary", bounds.SUMMARY_CHARS),
    ],
)
def test_text_fields_take_their_limit_and_not_one_more(field, limit):
    assert problems(**{field: "x" * limit}) == []
    assert problems(**{field: "x" * (limit + 1)}) == [
        f"{field}: {limit + 1:,} characters, more than the {limit:,} allowed"
    ]


@pytest.mark.parametrize(
    "field, most, chars",
    [
        ("authors", bounds.AUTHORS, bounds.AUTHOR_CHARS),
        ("categories", bounds.CATEGORIES, bounds.CATEGORY_CHARS),
        ("keywords", bounds.KEYWORDS, bounds.KEYWORD_CHARS),
    ],
)
def test_lists_bound_their_length_and_each_item(field, most, chars):
    assert problems(**{field: ["x"] * most}) == []
    assert problems(**{field: ["x"] * (most + 1)}) == [
        f"{field}: {most + 1:,} items, more than the {most:,} allowed"
    ]
    assert problems(**{field: ["x" * (chars + 1)]})[0].startswith(f"{field}: {chars + 1:,} char")


def test_all_author_names_together_are_bounded():
    names = ["n" * 1000] * (bounds.AUTHORS_TOTAL_CHARS // 1000 + 1)
    assert problems(authors=names) == [
        f"authors: {len(names) * 1000:,} characters in all, more than the "
        f"{bounds.AUTHORS_TOTAL_CHARS:,} allowed"
    ]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"title": None}, "missing required field 'title'"),
        ({"title": ["T"]}, "title: expected text, got list"),
        ({"title": "a\ud800"}, "title: not valid Unicode"),
        ({"upvotes": 10**30}, "upvotes: 1000000000000000000000000000000 is outside"),
        ({"upvotes": -1}, "upvotes: -1 is outside"),
        ({"upvotes": True}, "upvotes: expected a whole number, got bool"),
        ({"version": bounds.VERSION_MAX + 1}, "version: 10001 is outside"),
        ({"published": date(1990, 12, 31)}, "published: date 1990-12-31 is outside"),
        ({"updated": date(2026, 8, 24)}, "updated: date 2026-08-24 is outside"),
        ({"announced": "2026-08-21"}, "announced: expected a date, got str"),
        ({"entry": FeedEntry(day=date(9999, 1, 1), source="hf")}, "feed day: date 9999-01-01"),
        (
            {"entry": FeedEntry(day=date(2026, 1, 1), source="hf", organization=["x"])},
            "organization: expected text, got list",
        ),
        (
            {"entry": FeedEntry(day=date(2026, 1, 1), source="hf", num_comments=10**10)},
            "num_comments: 10000000000 is outside",
        ),
    ],
)
def test_wrong_types_encodings_and_ranges_are_named(changes, reason):
    [got] = problems(**changes)
    assert got.startswith(reason), got


def test_a_date_may_run_ahead_of_today_by_the_slack_only():
    slack = date.fromordinal(TODAY.toordinal() + bounds.FUTURE_DAYS)
    assert problems(published=slack) == []
    assert problems(published=date.fromordinal(slack.toordinal() + 1)) != []


def _documented_numbers() -> set[int]:
    text = DOC.read_text()
    return {int(n.replace(",", "")) for n in re.findall(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b", text)}


def test_docs_state_every_limit():
    """docs/security.md names each constant with its value (MiB sizes as MiB)."""
    text = DOC.read_text()
    documented = _documented_numbers()
    for name, value in vars(bounds).items():
        if not name.isupper() or not isinstance(value, int):
            continue
        assert f"`{name}`" in text, f"{name} is not in docs/security.md"
        shown = value // 2**20 if value >= 2**20 and value % 2**20 == 0 else value
        assert shown in documented, f"{name} = {value} is not in docs/security.md"
