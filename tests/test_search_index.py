"""Keeping the indexes in step with the store: updates, crash repair, checks, backfill; for
index files (SQLite) and for PostgreSQL tables alike (the `backend` parameter)."""

from paperboy.papers import Paper
from paperboy.search import open_search, update_indexes
from paperboy.search.index import open_indexes, rebuild_indexes
from tests.search_helpers import make_store


def paper(pid, title, abstract="An abstract about nothing in particular."):
    return Paper(id=pid, title=title, abstract=abstract, authors=["Ada Lovelace"])


def test_update_indexes_everything_then_only_changes(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    first = update_indexes(store, settings)
    assert first.keyword == 300 and first.dense == 300
    store.upsert([paper("2601.00001", "Quantum annealing for sparse routing")])
    second = update_indexes(store, settings)
    assert second.keyword == 1 and second.dense == 1
    assert update_indexes(store, settings).keyword == 0
    hits = open_search(store, settings).search("quantum annealing routing").hits
    assert hits[0].paper.id == "2601.00001"


def test_changed_paper_is_reindexed_but_not_reencoded_when_text_is_same(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    target = next(store.iter_papers())
    store.upsert([Paper(id=target.id, title=target.title, abstract=target.abstract,
                        upvotes=(target.upvotes or 0) + 5)])
    report = update_indexes(store, settings)
    assert report.keyword == 1 and report.dense == 0  # upvotes changed, text did not
    store.upsert([Paper(id=target.id, title="Completely new title on protein folding",
                        abstract=target.abstract)])
    report = update_indexes(store, settings)
    assert report.dense == 1
    engine = open_search(store, settings)
    assert engine.search("protein folding new title").hits[0].paper.id == target.id


def test_crash_between_store_and_index_is_repaired_on_open(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    # The store commits, the process dies before the index update ran:
    store.upsert([paper("2601.00002", "Lattice cryptography against side channels")])
    assert open_indexes(store, settings).check(store)  # out of step, and it says so
    engine = open_search(store, settings)  # a restart repairs it
    assert engine.search("lattice cryptography").hits[0].paper.id == "2601.00002"
    assert open_indexes(store, settings).check(store) == []


def test_lost_watermark_reindexes_without_duplicates(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    open_indexes(store, settings)._set_keyword_watermark(0)  # as if the write never happened
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    assert indexes.keyword.count() == 300
    assert indexes.check(store) == []


def test_check_reports_a_paper_missing_from_the_keyword_index(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    victim = next(store.iter_papers()).id
    indexes.keyword.remove([victim])
    indexes.keyword.commit()
    problems = open_indexes(store, settings).check(store)
    assert any("lacks 1 stored papers" in p and victim in p for p in problems)
    rebuild_indexes(store, settings, progress=False)
    assert open_indexes(store, settings).check(store) == []


def test_bulk_import_uses_the_fast_model_then_backfill_upgrades(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url, search_model="minilm", search_bulk_model="static",
                                 search_embed_limit=50)
    report = update_indexes(store, settings)
    assert report.bulk == 300 and report.dense == 0 and report.backlog == 300
    engine = open_search(store, settings)
    assert engine.search("graph neural networks").hits  # searchable right away
    indexes = open_indexes(store, settings)
    assert indexes.backfill(store, limit=8, progress=False) == 8
    reopened = open_indexes(store, settings)
    assert len(reopened.dense) == 8
    assert len(reopened.passages) >= 8  # long abstracts give several 128-token passages
    store.upsert([paper("2601.00003", "Speech recognition for low-resource languages")])
    report = update_indexes(store, settings)
    assert report.dense == 1 and report.bulk == 1  # a small update goes to the transformer
    engine = open_search(store, settings)
    assert engine.search("speech recognition low-resource").hits[0].paper.id == "2601.00003"
