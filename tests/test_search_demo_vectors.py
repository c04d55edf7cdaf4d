"""The demo corpus ships its transformer vectors: loading it leaves search ready at once,
with index files (SQLite) or index tables (PostgreSQL)."""

import numpy as np

from paperboy.config import Settings
from paperboy.demo import load_demo
from paperboy.search import open_search
from paperboy.search.updater import paper_text, text_hash
from paperboy.search.upkeep import open_indexes
from paperboy.store import open_store


def test_demo_load_seeds_vectors_and_indexes(tmp_path, database_url):
    settings = Settings.load(
        data_dir=tmp_path,
        search_embed_limit=0,
        search_model="minilm",
        search_passages=True,
        database_url=database_url,
    )  # the defaults, whatever the test env says
    store = open_store(settings)
    load_demo(store, settings)
    indexes = open_indexes(store, settings)
    count = store.count_papers()
    # search_embed_limit=0 sends the whole backlog to the static model and keeps only
    # transformer vectors whose text is unchanged: all of them came from the shipped file.
    assert len(indexes.dense) == count > 2900
    assert len(indexes.passages) >= count
    assert indexes.check(store) == []
    sample = list(store.iter_papers())[:50]
    assert not indexes.dense.stale([(p.id, text_hash(paper_text(p))) for p in sample])
    engine = open_search(store, settings)
    target = sample[7]
    hits = engine.search(target.title).hits
    assert hits[0].paper.id == target.id
    neighbours = engine.similar(target.id, limit=3)
    assert len(neighbours) == 3 and all(np.isfinite(h.score) for h in neighbours)


def test_demo_vectors_wait_for_the_index_writers_lock(tmp_path):
    """Another writer holds the indexes: seeding the demo vectors waits for it, as every index
    writer does, instead of writing under it."""
    import threading

    from paperboy.demo import seed_demo_vectors
    from paperboy.search.upkeep import indexes_lock

    settings = Settings.load(data_dir=tmp_path, search_model="minilm")
    store = open_store(settings)
    seeded = []
    with indexes_lock(store, settings):
        writer = threading.Thread(target=lambda: seeded.append(seed_demo_vectors(store, settings)))
        writer.start()
        writer.join(1.0)
        assert writer.is_alive() and not seeded  # waiting for the lock
    writer.join(60)
    assert seeded and seeded[0] > 2900
