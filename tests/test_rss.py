"""The arXiv announcement feed: the recorded cs.AI feed of 2025-08-20, served on loopback.

Replacements come from the next day's feed derived in recorded_rss.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from paperboy.papers import FeedEntry
from paperboy.sources import SourceError
from paperboy.sources.http import PoliteClient
from paperboy.sources.rss import fetch_announcements, parse_feed
from tests.recorded_rss import recorded_feed, replacement_feed
from tests.replay import ReplayServer, Reply, loopback_settings

DAY = date(2025, 8, 20)


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def parse(text: str):
    return parse_feed(ET.fromstring(text.encode("utf-8")), "http://loopback/atom/cs.AI")


def test_new_and_cross_listed_papers_enter_the_feed_on_the_announcement_day():
    feed = parse(recorded_feed())
    assert feed.day == DAY and feed.rejected == []
    kinds = {a.paper.id: a.kind for a in feed.announcements}
    assert kinds == {
        "2508.13426": "cross",
        "2508.13428": "cross",
        "2508.13429": "cross",
        "2508.13434": "cross",
        "2508.13435": "cross",
        "2508.14001": "new",
        "2508.14002": "new",
    }
    for a in feed.announcements:
        assert a.enters_feed
        assert a.paper.entry == FeedEntry(day=DAY, source="arxiv")
        assert a.paper.announced == DAY and a.paper.version == 1


def test_entry_fields_are_mapped():
    by_id = {a.paper.id: a.paper for a in parse(recorded_feed()).announcements}
    paper = by_id["2508.13426"]
    assert paper.title.startswith("ALIGN: Word Association Learning")
    assert paper.abstract.startswith("As large language models (LLMs) increasingly mediate")
    assert "Announce Type" not in paper.abstract
    assert paper.authors == ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"]
    # A cross-list names its home category first: that is the primary one.
    assert paper.categories == ["cs.CL", "cs.AI"] and paper.primary_category == "cs.CL"
    assert paper.license == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    # dc:creator keeps TeX accents; names are stored readable.
    assert by_id["2508.13429"].authors == ["Paulo André Lima de Castro"]


def test_replacements_update_without_entering_the_feed():
    feed = parse(replacement_feed())
    assert feed.day == date(2025, 8, 21)
    kinds = {a.paper.id: (a.kind, a.paper.version) for a in feed.announcements}
    assert kinds == {"2508.13426": ("replace", 2), "2508.13428": ("replace-cross", 3)}
    for a in feed.announcements:
        assert not a.enters_feed
        assert a.paper.entry is None and a.paper.announced is None
    assert feed.announcements[0].paper.title.startswith("ALIGN (revised):")


def test_an_empty_feed_has_no_day():
    empty = recorded_feed().split("<entry>")[0] + "</feed>"
    feed = parse(empty)
    assert feed.day is None and feed.items == []


def test_an_unknown_announce_type_is_rejected_and_the_rest_kept():
    text = recorded_feed().replace(
        "<arxiv:announce_type>new</arxiv:announce_type>",
        "<arxiv:announce_type>withdrawn</arxiv:announce_type>",
        1,
    )
    feed = parse(text)
    assert len(feed.announcements) == 6
    [rejected] = feed.rejected
    assert rejected.location == "http://loopback/atom/cs.AI#entry6"
    assert "2508.14001: unknown announce type 'withdrawn'" in rejected.reason


def test_fetch_asks_for_the_category_feed(server, tmp_path):
    server.route("/atom/cs.AI", Reply(200, recorded_feed()))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        feed = fetch_announcements(client, settings, "cs.AI")
    assert feed.url == server.url("/atom/cs.AI")
    assert len(feed.announcements) == 7


def test_something_that_is_no_feed_is_refused(server, tmp_path):
    server.route("/atom/cs.AI", Reply(200, "<rss><channel/></rss>"))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client, pytest.raises(SourceError) as err:
        fetch_announcements(client, settings, "cs.AI")
    assert server.url("/atom/cs.AI") in str(err.value) and "expected an Atom <feed>" in str(
        err.value
    )
