"""Runs that bring papers in from upstreams, each recorded as an import run with a summary.

- `sync_source`: one configured source (`sync_sources`: hf, rss), what is new since last time;
- `harvest`: an OAI-PMH backfill of a set and date range, resumable after a crash;
- `fetch`: arXiv API look-ups by id.

    run = harvest(store, settings, "cs", date(2026, 8, 1))
    print(run.summary())   # added 1200, updated 3, unchanged 0, rejected 1

Each is a recorded run of the one run loop (ingest/runs.py): each batch of papers commits
together with its run's counts and checkpoint, and the run updates the search indexes as it
ends. When an upstream stays down, what was stored stays, and `RunFailed` carries the run (for
its summary) and the reason to the caller. Any other error (a crash) marks the run failed with
it; Ctrl-C does too, except in a harvest, which stays "running" to resume from its token.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from datetime import date, timedelta

from paperboy.config import Settings
from paperboy.ingest.runs import RecordedRun
from paperboy.papers import InvalidArxivId, Paper, parse_arxiv_id
from paperboy.progress import Progress
from paperboy.sources import Rejected, SourceError
from paperboy.sources.arxiv_api import lookup_pages
from paperboy.sources.hf import daily_url, fetch_daily
from paperboy.sources.http import PoliteClient
from paperboy.sources.oai import BadResumptionToken, list_records
from paperboy.sources.rss import fetch_announcements
from paperboy.store import Run
from paperboy.system import utc_today

log = logging.getLogger(__name__)


class RunFailed(SourceError):
    """A run stopped by an upstream; `run` holds the counts of what was stored before."""

    def __init__(self, message: str, run: Run):
        super().__init__(message)
        self.run = run


def _split(items: Iterable[Paper | Rejected]) -> tuple[list[Paper], list[tuple[str, str]]]:
    papers, rejections = [], []
    for item in items:
        if isinstance(item, Rejected):
            rejections.append((item.location, item.reason))
        else:
            papers.append(item)
    return papers, rejections


def _stored(run: Run) -> int:
    return run.added + run.updated + run.unchanged


def _pause(settings: Settings) -> None:
    # Lets tests (and very gentle deployments) slow a run down between committed batches.
    if settings.import_pause:
        time.sleep(settings.import_pause)


# -- OAI-PMH harvest ---------------------------------------------------------------------------
def harvest(
    store,
    settings: Settings,
    set_spec: str,
    from_: date | None,
    until: date | None = None,
    show_progress: bool = True,
) -> Run:
    """Backfill a set (e.g. "cs") from OAI-PMH; the same call after a crash resumes it."""
    url = settings.arxiv_oai_url
    fingerprint = f"harvest:oai:{url}:{set_spec}:{from_ or ''}:{until or ''}"
    label = f"{url} set={set_spec} from={from_ or 'start'} until={until or 'now'}"
    # Ctrl-C leaves the run "running", as an upstream that is down does: the same command
    # resumes from the saved token.
    with RecordedRun(
        store, settings, "harvest:oai", label, fingerprint, interrupted="running"
    ) as recorded:
        run = recorded.run
        checkpoint = recorded.checkpoint
        if checkpoint.get("complete"):  # killed between the last page and marking the run done
            return run
        pages_done, records = checkpoint.get("pages", 0), checkpoint.get("records", 0)
        with PoliteClient(settings) as client:
            try:
                pages = list_records(
                    client, settings, set_spec, from_, until, token=checkpoint.get("token")
                )
                first = next(pages, None)
                size = checkpoint.get("size") or (first.complete_size if first else None)
                with Progress(
                    f"harvest {set_spec}", total=size, unit="records", enabled=show_progress
                ) as bar:
                    for page in itertools.chain([first] if first else [], pages):
                        pages_done += 1
                        records += len(page.items) + page.deleted
                        papers, rejections = _split(page.items)
                        recorded.write(
                            papers,
                            rejections,
                            checkpoint={
                                "token": page.token,
                                "pages": pages_done,
                                "records": records,
                                "size": size,
                                "complete": page.token is None,
                            },
                        )
                        done = (
                            page.cursor + len(page.items) + page.deleted
                            if page.cursor is not None
                            else records
                        )
                        bar.set_position(done, _stored(run))
                        if page.token:
                            _pause(settings)
            except BadResumptionToken as exc:
                message = (
                    f"{exc} This harvest cannot resume; the next `paperboy harvest` "
                    f"with the same options starts it over ({_stored(run)} papers "
                    "stored so far stay)."
                )
                recorded.fail(message)
                raise RunFailed(message, run) from None
            except SourceError as exc:
                message = (
                    f"{exc} The {_stored(run)} papers stored so far are kept; run the "
                    f"same command again to resume at page {pages_done + 1}."
                )
                # Left "running" on purpose: the same command resumes from the saved token.
                recorded.finish("running", message)
                raise RunFailed(message, run) from None
    return run


# -- sync: Hugging Face daily papers -----------------------------------------------------------
HF_WATERMARK = "sync:hf:last_day"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def sync_hf(
    store,
    settings: Settings,
    client: PoliteClient,
    today: date,
    since: date | None = None,
    show_progress: bool = True,
) -> Run:
    """HF's daily feed from the last synced day (or `since`) to `today`, one request a day."""
    last = store.get_state(HF_WATERMARK)
    # The last synced day is fetched again: a day's feed fills up over the day, and its
    # upvotes keep growing for a while.
    first = since or (
        date.fromisoformat(last) if last else today - timedelta(days=settings.sync_initial_days)
    )
    days = _days(first, today)
    with (
        RecordedRun(store, settings, "sync:hf", daily_url(settings), "sync:hf") as recorded,
        Progress("sync hf", total=len(days), unit="days", enabled=show_progress) as bar,
    ):
        try:
            for number, day in enumerate(days, start=1):
                papers, rejections = _split(fetch_daily(client, settings, day))
                recorded.write(papers, rejections, checkpoint={"day": day.isoformat()})
                if not last or day.isoformat() > last:
                    store.set_state(HF_WATERMARK, day.isoformat())
                bar.set_position(number, recorded.stored)
                _pause(settings)
        except SourceError as exc:
            _fail(recorded, exc, "`paperboy sync` again goes on from there")
    return recorded.run


def _fail(recorded: RecordedRun, exc: SourceError, hint: str) -> None:
    message = f"{exc} The {recorded.stored} papers stored before are kept; {hint}."
    recorded.fail(message)
    raise RunFailed(message, recorded.run) from None


# -- sync: the arXiv announcement feed ---------------------------------------------------------
def _missed_weekdays(last: date, day: date) -> bool:
    return any(d.weekday() < 5 for d in _days(last + timedelta(days=1), day - timedelta(days=1)))


def sync_rss(
    store,
    settings: Settings,
    client: PoliteClient,
    today: date,
    since: date | None = None,
    show_progress: bool = True,
) -> Run:
    """Today's announcements for each of `arxiv_categories`; a day already synced is skipped."""
    categories = settings.arxiv_categories
    with (
        RecordedRun(store, settings, "sync:rss", settings.arxiv_rss_url, "sync:rss") as recorded,
        Progress("sync rss", total=len(categories), unit="feeds", enabled=show_progress) as bar,
    ):
        try:
            for number, category in enumerate(categories, start=1):
                feed = fetch_announcements(client, settings, category)
                key = f"sync:rss:{category}"
                last = store.get_state(key)
                if feed.day and (not last or feed.day.isoformat() > last):
                    if last and _missed_weekdays(date.fromisoformat(last), feed.day):
                        log.warning(
                            "%s: last synced announcement day %s, the feed now shows %s; the "
                            "days between are no longer in the feed: backfill them with "
                            "`paperboy harvest --set %s --from %s`",
                            category,
                            last,
                            feed.day,
                            category.split(".")[0],
                            last,
                        )
                    papers = [a.paper for a in feed.announcements]
                    recorded.write(
                        papers,
                        _split(feed.rejected)[1],
                        checkpoint={"category": category, "day": feed.day.isoformat()},
                    )
                    store.set_state(key, feed.day.isoformat())
                bar.set_position(number, recorded.stored)
        except SourceError as exc:
            _fail(recorded, exc, "`paperboy sync` again goes on from there")
    return recorded.run


SYNC_SOURCES = {"hf": sync_hf, "rss": sync_rss}


def sync_source(
    store,
    settings: Settings,
    name: str,
    today: date | None = None,
    since: date | None = None,
    show_progress: bool = True,
) -> Run:
    """Run one sync source by name (see SYNC_SOURCES)."""
    if name not in SYNC_SOURCES:
        raise SourceError(
            f"unknown sync source {name!r} (setting sync_sources); known: {', '.join(SYNC_SOURCES)}"
        )
    with PoliteClient(settings) as client:
        return SYNC_SOURCES[name](
            store, settings, client, today or utc_today(), since=since, show_progress=show_progress
        )


# -- fetch by id -------------------------------------------------------------------------------
def fetch(store, settings: Settings, ids: Iterable[str], show_progress: bool = True) -> Run:
    """Look `ids` (any form) up in the arXiv API and store them; bad or unknown ids are rejected."""
    with RecordedRun(
        store, settings, "fetch", settings.arxiv_api_url, f"fetch:{time.time_ns()}"
    ) as recorded:
        wanted: dict[str, None] = {}
        bad = []
        for number, text in enumerate(ids, start=1):
            try:
                wanted.setdefault(parse_arxiv_id(text).id, None)
            except InvalidArxivId as exc:
                bad.append((f"argument {number}", str(exc)))
        if bad:
            recorded.write([], bad)
        wanted_ids = list(wanted)
        size = max(1, settings.arxiv_api_page_size)
        batches = [wanted_ids[i : i + size] for i in range(0, len(wanted_ids), size)]
        with (
            PoliteClient(settings) as client,
            Progress("fetch", total=len(batches), unit="requests", enabled=show_progress) as bar,
        ):
            try:
                for number, (batch, page) in enumerate(
                    zip(batches, lookup_pages(client, settings, wanted_ids), strict=True),
                    start=1,
                ):
                    found = {p.id for p in page.papers}
                    missing = [
                        (page.url, f"{i}: not found on arXiv") for i in batch if i not in found
                    ]
                    recorded.write(
                        page.papers,
                        missing + _split(page.rejected)[1],
                        checkpoint={"batch": number},
                    )
                    bar.set_position(number, recorded.stored)
            except SourceError as exc:
                _fail(recorded, exc, "run the same `paperboy fetch` again later")
    return recorded.run
