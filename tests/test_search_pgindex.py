"""Search indexes inside PostgreSQL: shared by every host, chosen by settings, safe to update
from several processes at once. (The engine's behaviour on both backends is tested in
test_search_engine.py and test_search_index.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search import open_search, update_indexes
from paperboy.search.files import FileIndexes
from paperboy.search.postgres import PgSearchIndexes
from paperboy.search.query import parse_query
from paperboy.search.upkeep import open_indexes, rebuild_indexes, search_backend
from paperboy.store import open_store
from tests.environment import subprocess_env
from tests.search_helpers import FIXTURE, make_store

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(postgres_server):
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


def test_backend_follows_the_database_unless_set(tmp_path, pg_url):
    sqlite = open_store(Settings.load(data_dir=tmp_path / "a"))
    pg = open_store(Settings.load(data_dir=tmp_path / "b", database_url=pg_url))
    assert search_backend(sqlite, Settings.load(data_dir=tmp_path)) == "files"
    assert search_backend(pg, Settings.load(data_dir=tmp_path)) == "postgres"
    assert search_backend(pg, Settings.load(data_dir=tmp_path, search_backend="files")) == "files"
    with pytest.raises(ValueError, match="needs a PostgreSQL database_url"):
        search_backend(sqlite, Settings.load(data_dir=tmp_path, search_backend="postgres"))
    with pytest.raises(ValueError, match="not known"):
        search_backend(pg, Settings.load(data_dir=tmp_path, search_backend="elastic"))
    files = open_indexes(
        pg,
        Settings.load(
            data_dir=tmp_path / "b",
            search_backend="files",
            search_model="static",
            search_bulk_model="",
        ),
    )
    assert type(files) is FileIndexes  # a Postgres store may keep file indexes
    pg.close()


def test_a_paper_indexed_on_one_host_is_found_on_another_at_once(tmp_path, pg_url):
    """Two hosts (own data dirs, own engines) on one database: no index files to copy."""
    store_a, settings_a = make_store(tmp_path / "a", database_url=pg_url)
    engine_b = open_search(*_host(tmp_path / "b", pg_url))
    assert not list((tmp_path / "a" / "data" / "index").glob("keyword*"))
    paper = Paper(
        id="2601.00042",
        title="Tidal energy forecasting with sparse sensor arrays",
        abstract="We forecast tidal energy from few sensors.",
        authors=["Ines Ruiz"],
    )
    store_a.upsert([paper])
    update_indexes(store_a, settings_a)
    hits = engine_b.search("tidal energy sensors").hits
    assert hits[0].paper.id == "2601.00042" and hits[0].why == "keyword + semantic"
    assert engine_b.similar("2601.00042")  # its vector is there too


def _host(folder, url):
    settings = Settings.load(
        data_dir=folder / "data", database_url=url, search_model="static", search_bulk_model=""
    )
    return open_store(settings), settings


def test_search_tables_hold_what_the_store_holds(tmp_path, pg_url):
    store, settings = make_store(tmp_path, database_url=pg_url)
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    assert isinstance(indexes, PgSearchIndexes)
    assert indexes.keyword.count() == store.count_papers() == len(indexes.dense) == 300
    assert indexes.check(store) == []
    names = {
        r[0]
        for r in store.conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('paper_search', 'paper_vectors')"
        )
    }
    assert "paper_search_doc" in names
    assert any(n.startswith("paper_vectors_hnsw_static_") for n in names), names


def test_rows_written_before_the_word_split_are_rewritten_by_paperboy_index(tmp_path, pg_url):
    """Rows from before 2026-12-03 (PostgreSQL's parser alone: "GPT-4" as gpt and the number
    -4) keep that reading until their paper changes or `paperboy index` rebuilds the index,
    which writes them split as the query's words are (gpt, 4)."""
    store, settings = _host(tmp_path / "a", pg_url)
    title = "Scaling laws of GPT-4 class models"
    store.upsert([Paper(id="2601.00001", title=title, abstract="Fits for 5-10 sizes.")])
    update_indexes(store, settings)
    with store.transaction() as conn:  # the row as a paperboy before the split wrote it
        conn.execute("UPDATE paper_search SET doc = to_tsvector('english', ?)", (title,))

    def lexemes() -> set[str]:
        row = store.conn.execute("SELECT tsvector_to_array(doc) FROM paper_search").fetchone()
        return set(row[0])

    update_indexes(store, settings)
    assert "-4" in lexemes()  # an update leaves an unchanged paper's row alone
    rebuild_indexes(store, settings, progress=False)  # paperboy index
    assert {"gpt", "4", "5", "10"} <= lexemes() and "-4" not in lexemes()
    assert open_indexes(store, settings).check(store) == []
    store.close()


def test_concurrent_updates_from_several_processes_index_each_paper_once(tmp_path, pg_url):
    """Three processes import and update the indexes at the same moment: the advisory lock
    lets one write at a time; every paper ends up indexed exactly once."""
    settings = Settings.load(data_dir=tmp_path / "data", database_url=pg_url)
    open_store(settings).close()  # migrate once, up front
    code = (
        "import sys; from paperboy.config import Settings; from paperboy.store import open_store;"
        "from paperboy.ingest import import_file; from paperboy.search import update_indexes;"
        f"s = Settings.load(data_dir=sys.argv[1], database_url={pg_url!r}, "
        "search_model='static', search_bulk_model='');"
        f"st = open_store(s); import_file(st, {str(FIXTURE)!r}, s, show_progress=False);"
        "print(update_indexes(st, s).summary())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / f"host{i}")],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    store = open_store(Settings.load(data_dir=tmp_path / "data", database_url=pg_url))
    counts = store.conn.execute(
        "SELECT (SELECT count(*) FROM paper_search), (SELECT count(DISTINCT paper_id) FROM "
        "paper_search), (SELECT count(*) FROM paper_vectors WHERE model = 'static')"
    ).fetchone()
    assert counts == (300, 300, 300)
    settings = Settings.load(
        data_dir=tmp_path / "data", database_url=pg_url, search_model="static", search_bulk_model=""
    )
    assert open_indexes(store, settings).check(store) == []


def test_vectors_round_trip_through_the_binary_copy(tmp_path, pg_url):
    import numpy as np

    from paperboy.search.postgres.tables import PgVectors

    store, settings = make_store(tmp_path, database_url=pg_url)
    indexes = open_indexes(store, settings)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3, indexes.dense.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [p.id for p in list(store.iter_papers())[:3]]
    target = PgVectors(store, "test-model", indexes.dense.dim)
    target.put(ids, vectors, [11, 12, -13])
    back = np.stack([target.vector(pid) for pid in ids])
    assert np.abs(back - vectors).max() < 2e-3  # float16 precision
    assert target.stale([(ids[0], 11), (ids[1], 99), ("2601.99999", 0)]) == {ids[1], "2601.99999"}
    target.put(ids[:1], -vectors[:1], [11])  # replaced, not duplicated
    assert len(target) == 3 and target.search(-vectors[0], 1)[0][0] == ids[0]


@pytest.fixture
def pg_keyword(tmp_path, pg_url):
    """The fixture papers in PostgreSQL's keyword table, statistics fresh; and the store."""
    store, settings = make_store(tmp_path, database_url=pg_url)
    update_indexes(store, settings)
    keyword = open_indexes(store, settings).keyword
    keyword.analyze()
    yield keyword, store
    store.close()


def _text(store, pid: str) -> str:
    paper = store.get(pid)
    return " ".join(f"{paper.title} {paper.abstract}".lower().replace("-", " ").split())


def _spy_reads(keyword, monkeypatch) -> list[tuple[list[str], int]]:
    """Record each read's tier tsqueries and how many papers it read."""
    reads: list[tuple[list[str], int]] = []
    read_and_rank = keyword._read_and_rank

    def spy(conn, q, terms, lexemes, tiers, want):
        found, matched, read = read_and_rank(conn, q, terms, lexemes, tiers, want)
        reads.append((tiers, read))
        return found, matched, read

    monkeypatch.setattr(keyword, "_read_and_rank", spy)
    return reads


def test_papers_holding_the_rarest_words_together_are_read_first(pg_keyword, monkeypatch):
    """The tiers go from every word (rarest first) to any rare word, each without the
    papers of the one before; unbounded, they rank what ranking every candidate ranks."""
    from paperboy.search.postgres import tables as pgsearch

    keyword, store = pg_keyword
    reads = _spy_reads(keyword, monkeypatch)
    q = parse_query("whisper quantization segmentation")
    full, full_total = keyword.search(q, limit=10)
    tiers = reads[-1][0]
    assert tiers[0].count("&") == 2 and "!" not in tiers[0]  # all three words together
    assert "!" in tiers[1] and "|" in tiers[-1]  # then fewer; last, any rare word
    assert full_total >= len(full) > 1
    monkeypatch.setattr(pgsearch, "MAX_READ", 1)  # as if the collection were huge
    top, total = keyword.search(q, limit=10)
    assert len(top) == 1 and reads[-1][1] == 1 and total == full_total
    text = _text(store, top[0][0])
    assert "whisper" in text and "quantiz" in text


def test_a_common_word_query_read_in_bounded_tiers_keeps_its_top_hits(pg_keyword, monkeypatch):
    """'model' is in most fixture papers: with the reading cut at a few papers (as a big
    collection cuts at MAX_READ), the first tiers (rarer words required) still hold the
    paper that ranks first when every candidate is ranked."""
    from paperboy.search.postgres import tables as pgsearch

    keyword, store = pg_keyword
    q = parse_query("language model diffusion segmentation")
    full, full_total = keyword.search(q, limit=5)
    assert full_total > 100
    reads = _spy_reads(keyword, monkeypatch)
    monkeypatch.setattr(pgsearch, "MAX_READ", 12)
    bounded, total = keyword.search(q, limit=5)
    assert reads[-1][1] == 12  # read no more than the bound
    assert bounded[0] == full[0]
    assert total == full_total  # the statistics' estimate, not the 12 read
    text = _text(store, bounded[0][0])
    assert "diffusion" in text and "segmentation" in text


def test_phrases_and_exclusions_hold_on_every_hit_however_the_stage_is_cut(pg_keyword, monkeypatch):
    from paperboy.search.postgres import tables as pgsearch

    keyword, store = pg_keyword
    q = parse_query('"large language model" agents -survey -"reinforcement learning"')
    full, total = keyword.search(q, limit=200)
    assert 10 < len(full) == total
    for pid, _ in full:
        text = _text(store, pid)
        assert "large language model" in text
        assert "survey" not in text and "reinforcement learning" not in text
    others, _ = keyword.search(parse_query('"large language model" agents'), limit=200)
    assert len(others) > len(full)  # the exclusions did remove papers
    monkeypatch.setattr(pgsearch, "MAX_READ", 8)
    cut, cut_total = keyword.search(q, limit=200)
    assert cut and set(cut) <= set(full)  # fewer read, never a paper that fails them
    assert cut_total >= len(cut)


def test_a_pasted_abstract_is_ranked_by_its_rarest_words(pg_keyword, monkeypatch):
    from paperboy.search.postgres import tables as pgsearch
    from paperboy.search.query import prose_query

    keyword, store = pg_keyword
    paper = store.get(keyword.all_ids()[0])
    q = prose_query(f"{paper.title} {paper.abstract}")
    terms = keyword._terms(q)
    assert len(terms.lexemes) > pgsearch.MAX_SCORED
    scored = terms.scored(keyword._stats_now())
    assert len(scored) == pgsearch.MAX_SCORED
    _, _, freqs, floor = keyword._stats_now()
    dropped = set(terms.lexemes) - set(scored)
    assert max(freqs.get(lex, floor) for lex in scored) <= min(
        freqs.get(lex, floor) for lex in dropped
    )
    found, _ = keyword.search(q, limit=5)
    assert found[0][0] == paper.id  # still its own best match


def test_sorted_and_filter_only_queries_count_their_total_up_to_a_bound(pg_keyword, monkeypatch):
    from paperboy.search.postgres import tables as pgsearch

    keyword, _ = pg_keyword
    q = parse_query("model")
    newest, total = keyword.search(q, limit=5, sort="date", conjunction=True)
    assert total > 200 and len(newest) == 5
    assert [s for _, s in newest] == sorted((s for _, s in newest), reverse=True)
    monkeypatch.setattr(pgsearch, "MAX_COUNT", 50)
    again, estimated = keyword.search(q, limit=5, sort="date", conjunction=True)
    assert again == newest and estimated >= 50  # the planner's estimate past the bound
    last_page, exact = keyword.search(q, limit=50, offset=total - 3, sort="date", conjunction=True)
    assert len(last_page) == 3 and exact == total  # the last page knows the total


def test_filters_hold_on_every_hit_when_the_reading_is_cut(pg_keyword, monkeypatch):
    """Categories and dates are checked on the rows the word tiers give, not through their
    own indexes: still every hit satisfies them, cut or not."""
    from paperboy.search.backends import paper_day
    from paperboy.search.postgres import tables as pgsearch

    keyword, store = pg_keyword
    q = parse_query("cat:cs.CV model after:2026-01-15")
    full, total = keyword.search(q, limit=200)
    assert 3 < len(full) == total
    for cut in (None, 3):
        if cut:
            monkeypatch.setattr(pgsearch, "MAX_READ", cut)
        found, _ = keyword.search(q, limit=200)
        assert found and set(found) <= set(full)
        for pid, _ in found:
            paper = store.get(pid)
            assert "cs.CV" in paper.categories and paper_day(paper).isoformat() >= "2026-01-15"


def test_a_keyword_statement_past_the_timeout_is_stopped_said_and_the_next_search_works(
    pg_keyword, monkeypatch
):
    """The database stops a keyword read that runs past STATEMENT_TIMEOUT_MS (a real
    statement_timeout, here lowered and met with pg_sleep); the caller gets a clear error,
    the connection is usable, and the next search answers."""
    from paperboy.search.backends import KeywordIndexError
    from paperboy.search.postgres import tables as pgsearch

    keyword, store = pg_keyword
    q = parse_query("whisper quantization")
    before, _ = keyword.search(q, limit=5)
    assert before
    read_and_rank = keyword._read_and_rank

    def slow(conn, *args):
        conn.execute("SELECT pg_sleep(0.5)")  # runs under the search's own timeout
        return read_and_rank(conn, *args)

    monkeypatch.setattr(pgsearch, "STATEMENT_TIMEOUT_MS", 50)
    monkeypatch.setattr(keyword, "_read_and_rank", slow)
    with pytest.raises(KeywordIndexError, match=r"longer than 0\.05 s and was stopped"):
        keyword.search(q, limit=5)
    monkeypatch.setattr(keyword, "_read_and_rank", read_and_rank)
    assert keyword.search(q, limit=5)[0] == before
    # The timeout was the search's own (set_config(..., true)): the store's writes are not
    # bound by it afterwards.
    with store.transaction() as conn:
        assert (
            conn.execute("SELECT pg_sleep(0.1), current_setting('statement_timeout')").fetchone()[1]
            != "50ms"
        )
