"""Hugging Face daily papers: the item shape of `/api/daily_papers?date=` as a `Paper`.

Each item is a paper plus its daily-feed entry: the day it entered HF's feed, who submitted it,
the organization, and the community upvotes as of the fetch.

    with PoliteClient(settings) as client:
        items = fetch_daily(client, settings, date(2026, 8, 21))  # Paper or Rejected each
"""

from __future__ import annotations

from datetime import date

from paperboy.papers import FeedEntry, InvalidArxivId, Paper, clean_text, parse_arxiv_id
from paperboy.sources import RecordError, Rejected, SourceError, checked_links


def _date(value) -> date | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _user(value) -> str | None:
    if isinstance(value, dict):
        return value.get("user") or value.get("name") or value.get("fullname")
    return None


def paper_from_hf_item(item: dict, day: date | None = None) -> Paper:
    """Map one daily-papers item. `day` overrides the feed day (the `date=` asked for)."""
    try:
        return _map_hf_item(item, day)
    except (TypeError, AttributeError) as exc:
        # e.g. a list where a title belongs: reject this item, not the whole response or file.
        raise RecordError(f"a field has the wrong type ({exc})") from None


def _map_hf_item(item: dict, day: date | None) -> Paper:
    if not isinstance(item, dict):
        raise RecordError(f"expected a JSON object, got {type(item).__name__}")
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise RecordError("missing required field 'paper'")
    if not paper.get("id"):
        raise RecordError("missing required field 'paper.id'")
    arxiv = parse_arxiv_id(str(paper["id"]))
    title = clean_text(item.get("title") or paper.get("title"))
    abstract = clean_text(paper.get("summary") or item.get("summary"))
    if not title:
        raise RecordError("missing required field 'title'")
    if not abstract:
        raise RecordError("missing required field 'summary'")
    authors = [
        clean_text(a.get("name"))
        for a in paper.get("authors") or []
        if isinstance(a, dict) and a.get("name")
    ]
    feed_day = (
        day
        or _date(item.get("_daily_date"))
        or _date(paper.get("submittedOnDailyAt"))
        or _date(item.get("publishedAt"))
    )
    org = item.get("organization") or paper.get("organization")
    entry = None
    if feed_day:
        entry = FeedEntry(
            day=feed_day,
            source="hf",
            submitted_by=_user(item.get("submittedBy") or paper.get("submittedOnDailyBy")),
            organization=org.get("name") if isinstance(org, dict) else None,
            organization_name=(org.get("fullname") or org.get("name")) if isinstance(org, dict)
            else None,
            num_comments=item.get("numComments") if isinstance(item.get("numComments"), int)
            else None,
        )
    upvotes = paper.get("upvotes")
    keywords = paper.get("ai_keywords")
    return Paper(
        id=arxiv.id,
        version=arxiv.version,
        title=title,
        abstract=abstract,
        authors=authors,
        published=_date(paper.get("publishedAt")),
        code_url=paper.get("githubRepo") or None,
        project_url=paper.get("projectPage") or None,
        upvotes=upvotes if isinstance(upvotes, int) and upvotes >= 0 else None,
        keywords=[k for k in keywords if isinstance(k, str)] if isinstance(keywords, list) else [],
        entry=entry,
    ).with_code_link()


# -- the /api/daily_papers client ------------------------------------------------------------
HF_PAGE_SIZE = 100  # items per request (the API's `limit`); a day rarely holds more


def daily_url(settings) -> str:
    return f"{settings.hf_api_url.rstrip('/')}/daily_papers"


def fetch_daily(client, settings, day: date, page_size: int = HF_PAGE_SIZE
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
            except (RecordError, InvalidArxivId) as exc:
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
