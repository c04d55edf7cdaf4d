"""Submitting a paper to today's feed by arXiv id or URL (the /submit page and the API).

A stored paper joins the feed at once, as a recorded run (ingest/runs.py). An unknown one is
queued for the submissions worker (paperboy/submissions.py), which fetches it from arXiv; the
request answers at once with the queued `Submission`, whose status page (/submissions/N) and
API (/api/submissions/N) say queued, fetching, done or failed. No request waits on arXiv.
Refusals carry an HTTP status and a message the user can act on.
"""

from __future__ import annotations

import time
from dataclasses import replace

from paperboy.papers import FeedEntry, InvalidArxivId, Paper, parse_arxiv_id
from paperboy.store.accounts import User
from paperboy.store.submissions import QueueFull, Submission
from paperboy.system import utc_today

QUEUE_FULL_RETRY_AFTER = 300  # seconds: a full queue drains at one arXiv request per 3 s


class SubmitRefused(Exception):
    def __init__(
        self, status: int, message: str, paper_id: str | None = None, retry_after: int | None = None
    ):
        super().__init__(message)
        self.status, self.message, self.paper_id = status, message, paper_id
        self.headers = {"Retry-After": str(retry_after)} if retry_after else None


def submit_paper(store, settings, user: User, text: str) -> Paper | Submission:
    """Put the paper named by `text` into today's feed, submitted by `user`: the stored paper,
    or the queued submission when it must be fetched from arXiv first."""
    try:
        arxiv = parse_arxiv_id(text or "")
    except InvalidArxivId as exc:
        raise SubmitRefused(400, str(exc)) from None
    paper = store.get(arxiv.id)
    if paper is not None and paper.entry is not None:
        raise SubmitRefused(
            409,
            f"{arxiv.id} is already in the feed (since {paper.entry.day.isoformat()})",
            arxiv.id,
        )
    if paper is None:
        return _enqueue(store, settings, user, arxiv.id)
    _add_to_feed(store, settings, user, paper)
    return store.get(arxiv.id)


def _add_to_feed(store, settings, user: User, paper: Paper) -> None:
    """A recorded run of one paper (the run loop every source uses, ingest/runs.py), so the
    feed entry shows in `paperboy runs`. The run makes the paper searchable as it ends, unless
    another process is writing the indexes (a bulk import can hold them for minutes): the
    request does not wait, the next update takes this paper too."""
    from paperboy.ingest.runs import RecordedRun

    entry = FeedEntry(day=utc_today(), source="user", submitted_by=user.name)
    with RecordedRun(
        store,
        settings,
        "submit",
        f"{user.name} on the site",
        f"submit:{time.time_ns()}",
        index_wait=False,
    ) as recorded:
        recorded.write([replace(paper, entry=entry)])


def _enqueue(store, settings, user: User, paper_id: str) -> Submission:
    try:
        submission, _ = store.enqueue_submission(
            paper_id, user.id, user.name, settings.submissions_per_user, settings.submissions_max
        )
    except QueueFull as exc:
        status = 429 if exc.scope == "user" else 503
        raise SubmitRefused(status, str(exc), retry_after=QUEUE_FULL_RETRY_AFTER) from None
    return submission


def status_text(submission: Submission) -> str:
    """One line for people: where the submission stands."""
    pid = submission.paper_id
    if submission.status == "done":
        return f"{pid} was fetched from arXiv and added to the feed"
    if submission.status == "failed":
        return f"{pid} could not be added: {submission.message}"
    if submission.status == "fetching":
        return f"{pid} is being fetched from arXiv"
    text = f"{pid} is queued to be fetched from arXiv"
    if submission.message:  # an earlier try failed
        text += f" ({submission.message}; trying again)"
    return text
