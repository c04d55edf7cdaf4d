"""Hugging Face daily papers: the item shape of `/api/daily_papers?date=` as a `Paper`.

Each item is a paper plus its daily-feed entry: the day it entered HF's feed, who submitted it,
the organization, and the community upvotes as of the fetch. Items of our own corpus files may
also carry `_categories` and `_comment`, joined from arXiv's listings (tools/make_demo_corpus.py).

    with PoliteClient(settings) as client:
        items = fetch_daily(client, settings, date(2026, 8, 21))  # Paper or Rejected each
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from paperboy import bounds
from paperboy.papers import FeedEntry, InvalidArxivId, Paper, clean_text, parse_arxiv_id
from paperboy.sources import RecordError, Rejected, SourceError, checked, checked_links
from paperboy.sources.schema import (
    Abstract,
    AuthorName,
    Category,
    Comment,
    Count,
    Day,
    IdText,
    Keyword,
    Name,
    Record,
    Title,
    Url,
    list_of,
    validate,
)


# -- the schema: every field of an item that paperboy reads -----------------------------------
class HFUser(Record):
    user: Name | None = None
    name: Name | None = None
    fullname: Name | None = None


class HFOrganization(Record):
    name: Name | None = None
    fullname: Name | None = None


class HFAuthor(Record):
    name: AuthorName | None = None


class HFPaper(Record):
    id: IdText
    title: Title | None = None
    summary: Abstract | None = None
    authors: list_of(HFAuthor, bounds.AUTHORS) | None = None
    publishedAt: Day | None = None
    submittedOnDailyAt: Day | None = None
    submittedOnDailyBy: HFUser | None = None
    organization: HFOrganization | None = None
    upvotes: Count | None = None
    ai_keywords: list_of(Keyword, bounds.KEYWORDS) | None = None
    githubRepo: Url | None = None
    githubStars: Count | None = None
    projectPage: Url | None = None
    ai_summary: Abstract | None = None


class HFItem(Record):
    paper: HFPaper
    title: Title | None = None
    summary: Abstract | None = None
    daily_date: Day | None = Field(None, alias="_daily_date")  # added by our corpus tools
    publishedAt: Day | None = None
    submittedBy: HFUser | None = None
    organization: HFOrganization | None = None
    numComments: Count | None = None
    # Joined from arXiv's listings by tools/make_demo_corpus.py (HF's API has neither).
    categories: list_of(Category, bounds.CATEGORIES) | None = Field(None, alias="_categories")
    comment: Comment | None = Field(None, alias="_comment")


def _user(value: HFUser | None) -> str | None:
    return (value.user or value.name or value.fullname) if value else None


def paper_from_hf_item(item, day: date | None = None) -> Paper:
    """Map one daily-papers item. `day` overrides the feed day (the `date=` asked for)."""
    if not isinstance(item, dict):
        raise RecordError(f"expected a JSON object, got {type(item).__name__}")
    if not isinstance(item.get("paper"), dict):
        raise RecordError("missing required field 'paper'")
    rec = validate(HFItem, item)
    paper = rec.paper
    try:
        arxiv = parse_arxiv_id(paper.id)
    except InvalidArxivId as exc:
        raise RecordError(str(exc)) from None
    title = clean_text(rec.title or paper.title)
    abstract = clean_text(paper.summary or rec.summary)
    if not title:
        raise RecordError("missing required field 'title'")
    if not abstract:
        raise RecordError("missing required field 'summary'")
    categories = [c for c in rec.categories or [] if c.strip()]
    feed_day = day or rec.daily_date or paper.submittedOnDailyAt or rec.publishedAt
    org = rec.organization or paper.organization
    entry = None
    if feed_day:
        entry = FeedEntry(
            day=feed_day,
            source="hf",
            submitted_by=_user(rec.submittedBy or paper.submittedOnDailyBy),
            organization=org.name if org else None,
            organization_name=(org.fullname or org.name) if org else None,
            num_comments=rec.numComments,
        )
    return checked(
        Paper(
            id=arxiv.id,
            version=arxiv.version,
            title=title,
            abstract=abstract,
            authors=[clean_text(a.name) for a in paper.authors or [] if a.name and a.name.strip()],
            categories=categories,
            primary_category=categories[0] if categories else None,
            published=paper.publishedAt,
            comment=clean_text(rec.comment) or None,
            code_url=paper.githubRepo or None,
            project_url=paper.projectPage or None,
            upvotes=paper.upvotes,
            keywords=list(paper.ai_keywords or []),
            entry=entry,
            ai_summary=clean_text(paper.ai_summary) or None,
            github_stars=paper.githubStars,
        ).with_code_link()
    )


# -- the /api/daily_papers client ------------------------------------------------------------
HF_PAGE_SIZE = 100  # items per request (the API's `limit`); a day rarely holds more


def daily_url(settings) -> str:
    return f"{settings.hf_api_url.rstrip('/')}/daily_papers"


def fetch_daily(
    client, settings, day: date, page_size: int = HF_PAGE_SIZE
) -> list[Paper | Rejected]:
    """Every paper in HF's daily feed on `day`, dated by that day (the day it entered the feed)."""
    url = daily_url(settings)
    items: list[Paper | Rejected] = []
    seen: set[str] = set()
    page = 0
    while True:
        params = {"date": day.isoformat(), "limit": page_size, "p": page}
        data = client.get_json(url, params)
        if not isinstance(data, list):
            raise SourceError(
                f"{url}?date={day.isoformat()}: expected a JSON list of daily papers, got "
                f"{type(data).__name__}"
            )
        fresh = 0
        for number, item in enumerate(data, start=page * page_size + 1):
            where = f"{url}?date={day.isoformat()}#item{number}"
            try:
                paper = checked_links(paper_from_hf_item(item, day=day), where)
            except RecordError as exc:
                items.append(Rejected(where, str(exc)))
                fresh += 1
                continue
            if paper.id not in seen:
                seen.add(paper.id)
                items.append(paper)
                fresh += 1
        # A short page is the last; a page of nothing new means the server ignores `p`.
        if len(data) < page_size or not fresh:
            return items
        page += 1
