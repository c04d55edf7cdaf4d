"""The SQLite store: migrations, idempotent upserts, version updates, the feed, runs."""

from dataclasses import replace
from datetime import date
from importlib import resources

import pytest

from paperboy.config import Settings
from paperboy.papers import FeedEntry, Paper
from paperboy.store import StoreError, open_store

MIGRATIONS = resources.files("paperboy.store") / "migrations"


def make(pid="2405.15738", **kw) -> Paper:
    base = dict(id=pid, title="ConvLLaVA", abstract="Hierarchical backbones.", authors=["A B"])
    base.update(kw)
    return Paper(**base)


def test_sqlite_opens_in_wal_mode_with_migrations_applied(settings):
    store = open_store(settings)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"papers", "feed_entries", "import_runs", "rejections", "state"} <= tables


def test_migrations_are_applied_once(store, backend_settings):
    newest = max(
        int(f.name.split("_")[0])
        for f in MIGRATIONS.joinpath(store.dialect).iterdir()
        if f.name.endswith(".sql")
    )
    assert store.schema_version == newest
    store.upsert([make()])
    again = open_store(backend_settings)
    assert again.get("2405.15738").title == "ConvLLaVA"
    assert again.schema_version == newest
    again.close()


def test_refuses_a_store_from_a_newer_paperboy(store, backend_settings):
    with store.transaction() as conn:
        store._set_schema_version(conn, 999)
    with pytest.raises(StoreError, match="upgrade paperboy"):
        open_store(backend_settings)


def test_unknown_database_urls_are_a_clear_error(settings):
    with pytest.raises(StoreError, match="expected empty"):
        open_store(replace(settings, database_url="mysql://x"))


def test_upsert_twice_changes_nothing(store):
    papers = [make("2405.00001"), make("2405.00002", upvotes=3)]
    first = store.upsert(papers)
    seq = store.max_seq()
    second = store.upsert(papers)
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 2)
    assert store.max_seq() == seq  # nothing re-indexed either
    assert store.count_papers() == 2


def test_round_trips_every_field(store):
    paper = make(
        version=2,
        categories=["cs.CV", "cs.AI"],
        primary_category="cs.CV",
        published=date(2024, 5, 24),
        updated=date(2024, 6, 1),
        announced=date(2024, 5, 27),
        comment="10 pages",
        journal_ref="CVPR 2025",
        doi="10.1234/x",
        license="CC BY 4.0",
        code_url="https://github.com/a/b",
        project_url="https://a.github.io",
        upvotes=32,
        keywords=["LMM"],
        authors=["Chunjiang Ge", "Sijie Cheng", "Gao Huang"],
        entry=FeedEntry(date(2024, 5, 27), "hf", "bzheng", "tsinghua", "Tsinghua", 3),
    )
    store.upsert([paper])
    assert store.get(paper.id) == paper
    stored = store.get(paper.id)  # the arXiv links are built from the stored id
    row = (stored.abs_url, stored.pdf_url)
    assert row == ("https://arxiv.org/abs/2405.15738", "https://arxiv.org/pdf/2405.15738")


def test_newer_version_updates_and_keeps_first_submitted_date(store):
    store.upsert(
        [make(version=1, title="Old", published=date(2024, 5, 1), updated=date(2024, 5, 1))]
    )
    result = store.upsert(
        [make(version=2, title="New", published=date(2024, 6, 1), updated=date(2024, 6, 1))]
    )
    stored = store.get("2405.15738")
    assert result.updated == 1
    assert (stored.version, stored.title) == (2, "New")
    assert stored.published == date(2024, 5, 1)
    assert stored.updated == date(2024, 6, 1)


def test_older_version_only_fills_gaps(store):
    store.upsert([make(version=3, title="Final", comment=None)])
    store.upsert([make(version=1, title="Draft", comment="draft comment")])
    stored = store.get("2405.15738")
    assert (stored.version, stored.title, stored.comment) == (3, "Final", "draft comment")


def test_empty_values_never_erase_and_upvotes_only_grow(store):
    store.upsert([make(code_url="https://github.com/a/b", upvotes=10)])
    store.upsert([make(code_url=None, upvotes=4)])
    stored = store.get("2405.15738")
    assert (stored.code_url, stored.upvotes) == ("https://github.com/a/b", 10)


def test_code_link_is_extracted_from_the_abstract(store):
    store.upsert([make(abstract="Code: https://github.com/alibaba/conv-llava.")])
    assert store.get("2405.15738").code_url == "https://github.com/alibaba/conv-llava"


def test_feed_entry_keeps_the_earliest_day(store):
    store.upsert([make(entry=FeedEntry(date(2024, 5, 28), "hf", "someone"))])
    store.upsert([make(entry=FeedEntry(date(2024, 5, 27), "arxiv"))])
    entry = store.get("2405.15738").entry
    assert entry.day == date(2024, 5, 27)
    assert entry.submitted_by == "someone"  # the later source's details are kept


def test_duplicates_inside_one_batch_merge(store):
    result = store.upsert([make(upvotes=1), make(upvotes=5)])
    assert result.added == 1
    assert store.get("2405.15738").upvotes == 5


def test_feed_days_skip_empty_days_and_order_by_upvotes(store):
    day = lambda d: FeedEntry(date(2024, 5, d), "hf")  # noqa: E731
    store.upsert(
        [
            make("2405.00001", upvotes=1, entry=day(20)),
            make("2405.00002", upvotes=9, entry=day(20)),
            make("2405.00003", upvotes=5, entry=day(23)),
            make("2405.00004"),  # not in the feed
        ]
    )
    assert [p.id for p in store.papers_on(date(2024, 5, 20))] == ["2405.00002", "2405.00001"]
    assert store.latest_day() == date(2024, 5, 23)
    assert store.day_before(date(2024, 5, 23)) == date(2024, 5, 20)
    assert store.day_after(date(2024, 5, 20)) == date(2024, 5, 23)
    assert store.day_before(date(2024, 5, 20)) is None
    assert store.count_between(date(2024, 5, 1), date(2024, 5, 31)) == 3
    assert [p.id for p in store.papers_between(date(2024, 5, 1), date(2024, 5, 31), limit=2)] == [
        "2405.00002",
        "2405.00003",
    ]


def test_changed_since_feeds_the_index_watermark(store):
    store.upsert([make("2405.00001"), make("2405.00002")])
    mark = store.max_seq()
    store.upsert([make("2405.00002", title="Changed"), make("2405.00003")])
    changed = [p.id for _, p in store.changed_since(mark)]
    assert changed == ["2405.00002", "2405.00003"]
    assert store.changed_since(store.max_seq()) == []


def test_iter_papers_reads_everything_in_batches(store):
    store.upsert([make(f"2405.{i:05d}") for i in range(1, 12)])
    assert [p.id for p in store.iter_papers(batch=4)] == [f"2405.{i:05d}" for i in range(1, 12)]


def test_run_checkpoint_commits_with_the_batch(store):
    run = store.begin_run("import", "f.jsonl", "fp")
    store.upsert(
        [make()], run=run, checkpoint={"line": 7}, rejections=[("f.jsonl:3", "invalid JSON")]
    )
    resumed = store.begin_run("import", "f.jsonl", "fp")
    assert resumed.resumed and resumed.id == run.id
    assert (resumed.checkpoint, resumed.added, resumed.rejected) == ({"line": 7}, 1, 1)
    assert store.rejections(run.id) == [("f.jsonl:3", "invalid JSON")]
    store.finish_run(resumed)
    assert not store.begin_run("import", "f.jsonl", "fp").resumed


def test_a_failed_batch_leaves_nothing_behind(store):
    run = store.begin_run("import", "f.jsonl", "fp")
    store.upsert([make("2405.00001")], run=run, checkpoint={"line": 1})
    bad = replace(make("2405.00002"), title=None)  # violates NOT NULL mid-batch
    with pytest.raises(Exception, match="(?i)not.null"):
        store.upsert([make("2405.00003"), bad], run=run, checkpoint={"line": 3})
    assert store.count_papers() == 1
    assert store.begin_run("import", "f.jsonl", "fp").checkpoint == {"line": 1}


def test_state_round_trip(store):
    assert store.get_state("sync:hf") is None
    store.set_state("sync:hf", "2026-08-21")
    store.set_state("sync:hf", "2026-08-22")
    assert store.get_state("sync:hf") == "2026-08-22"


def test_both_backends_have_the_same_tables_and_columns(tmp_path, clean_env, request):
    """The migrations of the two dialects describe one schema (bookkeeping tables aside)."""
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    sqlite = open_store(Settings.load(data_dir=tmp_path / "a"))
    postgres = open_store(Settings.load(data_dir=tmp_path / "b", database_url=url))
    try:
        ours, theirs = sqlite.columns(), postgres.columns()
        # PostgreSQL keeps search in tables (tsvector, pgvector); SQLite's search is in files.
        # The migration bookkeeping differs too (a table on one side).
        only_postgres = {"paper_search", "paper_vectors"}
        bookkeeping = {"schema_version"}
        assert set(ours) - bookkeeping == set(theirs) - only_postgres - bookkeeping, set(
            ours
        ) ^ set(theirs)
        assert {"papers", "import_runs", "users", "votes", "submissions"} <= set(ours)
        for table, columns in ours.items():
            assert set(columns) == set(theirs[table]), (table, set(columns) ^ set(theirs[table]))
    finally:
        sqlite.close()
        postgres.close()
        server.drop_database(url)


def test_a_transaction_commits_together_or_not_at_all(store):
    with store.transaction() as conn:
        conn.execute("INSERT INTO state (key, value) VALUES (?, ?)", ("t:a", "1"))
    with pytest.raises(RuntimeError, match="midway"), store.transaction() as conn:
        conn.execute("INSERT INTO state (key, value) VALUES (?, ?)", ("t:b", "2"))
        raise RuntimeError("midway")
    assert store.get_state("t:a") == "1"
    assert store.get_state("t:b") is None  # rolled back with the error


def test_an_advisory_lock_has_one_holder_across_processes(store, backend_settings):
    other = open_store(backend_settings)  # another connection, as another process would
    try:
        with store.advisory_lock(4242) as held:
            assert held is True
            with other.advisory_lock(4242, wait=False) as second:
                assert second is False  # held elsewhere: refused at once
            with other.advisory_lock(4243, wait=False) as unrelated:
                assert unrelated is True  # another key is another lock
        with other.advisory_lock(4242, wait=False) as after:
            assert after is True  # released when the first block ended
    finally:
        other.close()


def test_long_id_lists_are_read_in_chunks(store):
    from paperboy.store.chunks import CHUNK

    ids = [f"2405.{n:05d}" for n in range(CHUNK * 2 + 7)]
    store.upsert([make(pid) for pid in ids])
    found = store.get_many(ids + ["2405.99999"])
    assert sorted(found) == ids  # every chunk read, none twice, the unknown id left out


def test_the_unread_url_columns_are_gone_and_an_old_store_loses_them_on_open(tmp_path, clean_env):
    """Migration 0007 drops the generated abs_url/pdf_url columns (nothing read them); a store
    made before it keeps its papers."""
    import sqlite3
    from importlib import resources

    settings = Settings.load(data_dir=tmp_path / "d")
    settings.sqlite_path.parent.mkdir(parents=True)
    old = sqlite3.connect(settings.sqlite_path)  # as a paperboy before 0007 left it
    folder = resources.files("paperboy.store") / "migrations" / "sqlite"
    for script in sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))[:6]:
        old.executescript((folder / script).read_text())
    assert {"abs_url", "pdf_url"} <= {row[1] for row in old.execute("PRAGMA table_xinfo(papers)")}
    old.execute(
        "INSERT INTO papers (id, title, abstract, seq, created_at, modified_at) VALUES "
        "('2405.15738', 'ConvLLaVA', '', 1, '2026-01-01', '2026-01-01')"
    )
    old.execute("PRAGMA user_version=6")
    old.commit()
    old.close()
    again = open_store(settings)
    assert again.schema_version >= 7
    assert not {"abs_url", "pdf_url"} & set(again.columns()["papers"])
    assert again.get("2405.15738").title == "ConvLLaVA"
    again.close()
