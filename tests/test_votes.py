"""One notion of votes: the site, the JSON API, Atom, the digest mail and `paperboy papers`
show and rank by the same count, upstream upvotes plus the votes cast here (feeds.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperboy.cli import main
from paperboy.mail.digests import DigestRun
from paperboy.web.app import create_app
from tests.mail_fixtures import mail_settings

D21 = date(2026, 8, 21)
LOCAL_VOTES = 400  # far above any upstream count of the day


@pytest.fixture
def sink(smtp_sink):
    return smtp_sink()


def boost_the_least_voted(store) -> tuple[str, int]:
    """Local votes lift the day's least upvoted paper above all the others; its id and the
    votes it shows now."""
    last = min(store.papers_on(D21), key=lambda p: (p.upvotes or 0, p.id))
    for number in range(LOCAL_VOTES):
        user = store.create_user(f"voter{number}", "hash")
        store.set_vote(user.id, last.id, True)
    return last.id, (last.upvotes or 0) + LOCAL_VOTES


def mailed_papers(message) -> list[tuple[str, int]]:
    """(paper id, shown upvotes) in the order the plain-text digest lists them."""
    text = message.get_body(("plain",)).get_content()
    votes = [int(v) for v in re.findall(r"▲ (\d+) upvote", text)]
    ids = re.findall(r"/abs/(\S+)", text)
    return list(zip(ids, votes, strict=True))


def test_the_site_and_the_digest_agree_when_local_votes_reorder_the_top(
    papers_store, sink, data_dir, database_url
):
    settings = mail_settings(data_dir, sink.port, database_url=database_url)
    boosted, shown = boost_the_least_voted(papers_store)
    sub, _ = papers_store.request_subscription("top@example.org", "", "daily", True, [], "n")
    papers_store.confirm_subscriber(sub.id, "n")

    with TestClient(create_app(settings, store=papers_store)) as client:
        site = client.get(f"/api/daily_papers?date={D21}&limit=100").json()
        atom = client.get("/feeds/daily.atom").text
    site_order = [(item["paper"]["id"], item["paper"]["upvotes"]) for item in site]
    assert site_order[0] == (boosted, shown)

    assert DigestRun(papers_store, settings).run(D21).sent == 1
    [message] = sink.messages()
    mailed = mailed_papers(message)
    assert mailed[0] == (boosted, shown)
    assert mailed == site_order[: len(mailed)]  # the same papers, order and counts
    assert f"{shown} upvotes" in atom


def test_paperboy_papers_shows_and_ranks_by_the_same_votes(papers_store, data_dir, database_url):
    boosted, shown = boost_the_least_voted(papers_store)
    env = {"PAPERBOY_DATABASE_URL": database_url} if database_url else {}
    result = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "papers", "--date", D21.isoformat()], env=env
    )
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[1]
    assert re.match(rf"\s*{shown} ▲\s+{re.escape(boosted)}\b", first), result.output
