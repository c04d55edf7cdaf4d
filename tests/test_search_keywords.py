"""Keywords extracted offline (search/keywords.py): candidate phrases, the diversity of the
pick, and a run over feed papers without keywords with the bundled model."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import numpy as np

from paperboy.papers import FeedEntry, Paper
from paperboy.search.encoders import load_encoder
from paperboy.search.keywords import (
    _STOP,
    candidates,
    extract_keywords,
    extract_missing,
    most_relevant_diverse,
)
from paperboy.store.media import Keywords
from tests.environment import subprocess_env
from tests.replay import FIXTURES

ITEMS = json.loads((FIXTURES / "hf_daily_papers_2026-08-21.json").read_text())


def test_candidates_are_phrases_without_stop_words_at_their_ends():
    found = candidates(
        "We propose a mixture of experts for graph neural networks. Graph neural networks are slow."
    )
    lower = [c.lower() for c in found]
    # Twice-seen phrases come before once-seen ones; one spelling each.
    assert lower.index("graph neural networks") < lower.index("mixture of experts")
    assert lower.count("graph neural networks") == 1
    assert not [c for c in found if c.split()[0].lower() in _STOP or c.split()[-1].lower() in _STOP]
    assert "networks are slow" not in lower


def test_the_pick_trades_relevance_for_diversity():
    doc = np.array([1.0, 0.0, 0.0])
    near = np.array([0.95, 0.31, 0.0])
    phrases = np.array([near, near * 0.999 + [0, 0.0003, 0], [0.8, 0.0, 0.6]])
    phrases /= np.linalg.norm(phrases, axis=1, keepdims=True)
    assert most_relevant_diverse(doc, phrases, 2, diversity=0.0) == [0, 1]
    assert most_relevant_diverse(doc, phrases, 2, diversity=0.5) == [0, 2]


def test_keywords_of_real_abstracts_come_from_the_abstract():
    encoder = load_encoder("static")
    for item in ITEMS[:5]:
        paper = item["paper"]
        words = extract_keywords(encoder, paper["title"], paper["summary"])
        assert 3 <= len(words) <= 8 and len({w.lower() for w in words}) == len(words)
        text = " ".join(paper["summary"].split()).lower()
        assert all(w.lower() in text for w in words), words


def test_feed_papers_without_keywords_get_them_and_the_command_says_so(store, backend_settings):
    with_none = [
        Paper(
            i["paper"]["id"],
            i["paper"]["title"],
            i["paper"]["summary"],
            entry=FeedEntry(date(2026, 8, 21), "hf"),
        )
        for i in ITEMS[:3]
    ]
    given = Paper(
        "2608.00001",
        "Given",
        "An abstract about graph neural networks.",
        keywords=["graphs"],
        entry=FeedEntry(date(2026, 8, 21), "hf"),
    )
    store.upsert([*with_none, given])
    found = extract_missing(store, backend_settings, encoder=load_encoder("static"))
    assert set(found) == {p.id for p in with_none}
    assert Keywords(store).extracted(found) == found
    assert Keywords(store).missing(10) == []


def test_the_keywords_command(tmp_path):
    from paperboy.config import Settings
    from paperboy.store import open_store

    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    store.upsert(
        [
            Paper(
                i["paper"]["id"],
                i["paper"]["title"],
                i["paper"]["summary"],
                entry=FeedEntry(date(2026, 8, 21), "hf"),
            )
            for i in ITEMS[:2]
        ]
    )
    store.close()
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "--data-dir", str(settings.data_dir), "keywords"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "keywords: extracted for 2 papers" in done.stdout
