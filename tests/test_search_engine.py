"""The hybrid engine over a real store of 300 real papers (static model: fast), with its
indexes in files (SQLite) and in PostgreSQL (tsvector + pgvector)."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search import Filters, SearchResult, open_search, update_indexes
from paperboy.search.backends import paper_day
from paperboy.store import open_store
from tests.search_helpers import make_store


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request, tmp_path_factory):
    """The engine over files (SQLite) and over PostgreSQL tables: the same tests for both."""
    url = ""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
    store, settings = make_store(tmp_path_factory.mktemp("engine"), database_url=url)
    yield open_search(store, settings)
    store.close()
    if url:
        server.drop_database(url)


@pytest.fixture(scope="module")
def papers(engine):
    return list(engine.store.iter_papers())


def test_arxiv_id_or_url_puts_that_paper_first(engine, papers):
    target = papers[17]
    for query in (target.id, f"https://arxiv.org/abs/{target.id}v1", f"arXiv:{target.id}"):
        result = engine.search(query)
        assert result.hits[0].paper.id == target.id and result.hits[0].why == "arXiv id"


def test_unknown_id_says_so(engine):
    result = engine.search("2101.99999")
    assert result.hits == [] and "not in this paperboy" in result.message


def test_title_words_find_the_paper_with_highlights(engine, papers):
    target = papers[42]
    result = engine.search(target.title)
    assert result.hits[0].paper.id == target.id
    assert result.hits[0].title_spans, "the title's words are marked"
    assert "keyword" in result.hits[0].why


def test_semantic_side_finds_papers_without_the_words(engine):
    result = engine.search("teaching robots to grasp objects")
    assert result.hits
    assert any(h.why == "semantic" or "semantic" in h.why for h in result.hits)


def test_hits_say_whether_the_query_words_matched(engine):
    """`matched` (typed) is what alerts and Atom filter on: False exactly for the hits found
    by meaning alone."""
    result = engine.search("teaching robots to grasp objects", limit=50)
    semantic_only = [h for h in result.hits if not h.matched]
    assert semantic_only and any(h.matched for h in result.hits)
    assert all(h.why == "semantic" for h in semantic_only)
    assert all(h.why != "semantic" for h in result.hits if h.matched)


def test_exclusion_removes_papers(engine):
    with_word = engine.search("learning", limit=50)
    without = engine.search("learning -language", limit=50)
    assert without.hits
    for hit in without.hits:
        text = f"{hit.paper.title} {hit.paper.abstract} {' '.join(hit.paper.authors)}".lower()
        assert "language" not in text
    assert len(with_word.hits) >= len(without.hits)


def test_phrase_must_match(engine):
    result = engine.search('"large language models" evaluation', limit=50)
    assert result.hits
    for hit in result.hits:
        assert "large language model" in f"{hit.paper.title} {hit.paper.abstract}".lower()


def test_category_author_and_code_filters(engine, papers):
    author = papers[5].authors[0]
    result = engine.search(f'author:"{author}"')
    assert papers[5].id in {h.paper.id for h in result.hits}
    assert all(author in h.paper.authors for h in result.hits)
    for hit in engine.search("neural networks cat:cs.CV", limit=30).hits:
        assert "cs.CV" in hit.paper.categories
    coded = engine.search("model has:code", limit=30)
    assert coded.hits and all(h.paper.code_url for h in coded.hits)
    same = engine.search("model", Filters(has_code=True), limit=30)
    assert [h.paper.id for h in same.hits] == [h.paper.id for h in coded.hits]


def test_date_filters_and_sort(engine):
    result = engine.search("learning after:2025-06-01 before:2025-12-31", sort="date", limit=40)
    days = [paper_day(h.paper) for h in result.hits]
    assert days and all(date(2025, 6, 1) <= d <= date(2025, 12, 31) for d in days)
    assert days == sorted(days, reverse=True)
    by_votes = engine.search("model", sort="upvotes", limit=20)
    votes = [h.paper.upvotes or 0 for h in by_votes.hits]
    assert votes == sorted(votes, reverse=True)


def test_filters_alone_list_papers(engine):
    result = engine.search("cat:cs.LG", limit=10)
    assert result.total >= 10 and all("cs.LG" in h.paper.categories for h in result.hits)


def test_paging_is_consistent(engine):
    first = engine.search("reinforcement learning agents", limit=5)
    second = engine.search("reinforcement learning agents", limit=5, offset=5)
    both = engine.search("reinforcement learning agents", limit=10)
    assert [h.paper.id for h in first.hits + second.hits] == [h.paper.id for h in both.hits]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "author:",
        "-",
        '"',
        "the of and",
        "🙂🙂",
        "'; DROP TABLE papers; --",
        "x" * 10_000,
        "\x00\x01\x02",
    ],
)
def test_odd_input_gives_a_result_or_a_message(engine, query):
    result = engine.search(query)
    assert isinstance(result, SearchResult)
    assert result.hits or result.message


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.text(max_size=200),
    sort=st.sampled_from(["relevance", "date", "upvotes", "??"]),
    limit=st.integers(-5, 500),
    offset=st.integers(-5, 20_000),
)
def test_no_exception_escapes(engine, query, sort, limit, offset):
    result = engine.search(query, sort=sort, limit=limit, offset=offset)
    assert isinstance(result, SearchResult) and len(result.hits) <= 200


def test_numbers_joined_to_words_are_found_as_a_query_writes_them(
    database_url, tmp_path, clean_env
):
    """ "GPT-4", "-20 °C", "5-10 days" and "Qwen2.5" are found by the words a query sends on
    both backends (PostgreSQL's parser alone indexed "-4", "-20" and "-10" as signed numbers
    and "qwen2.5" as one token, which no query matched)."""
    settings = Settings.load(
        data_dir=tmp_path / "data",
        database_url=database_url,
        search_model="static",
        search_bulk_model="",
    )
    store = open_store(settings)
    store.upsert(
        [
            Paper(
                id="2601.00001",
                title="Scaling laws of GPT-4 class models",
                abstract="We fit scaling laws to language models.",
            ),
            Paper(
                id="2601.00002",
                title="GPT agents that plan tool use",
                abstract="Agents plan which tools to call.",
            ),
            Paper(
                id="2601.00003",
                title="Enzyme stability in cold storage",
                abstract="Samples stored at -20 °C kept their activity for 5-10 days.",
            ),
            Paper(
                id="2601.00004",
                title="Fine-tuning Qwen2.5 on word problems",
                abstract="A small model learns arithmetic.",
            ),
        ]
    )
    update_indexes(store, settings)
    engine = open_search(store, settings)

    def matched(query: str) -> list[str]:
        return [h.paper.id for h in engine.search(query).hits if h.matched]

    assert engine.search("GPT-4").hits[0].paper.id == "2601.00001"
    assert matched("Qwen2.5")[0] == "2601.00004"
    assert matched("20") == matched("-20") == matched("10 days") == ["2601.00003"]
    store.close()


def test_similar_excludes_the_paper_itself(engine, papers):
    target = papers[3]
    hits = engine.similar(target.id, limit=5)
    assert len(hits) == 5 and target.id not in {h.paper.id for h in hits}
    assert engine.similar("0000.00000") == []


def test_a_repeated_query_reuses_its_vector(tmp_path):
    from paperboy.search.engine import QueryVectors

    store, settings = make_store(tmp_path)
    engine = open_search(store, settings)
    first = engine.search("graph neural networks for molecules")
    again = engine.search("Graph  NEURAL networks for molecules", offset=0)
    assert [h.paper.id for h in first.hits] == [h.paper.id for h in again.hits]
    assert (engine.query_vectors.misses, engine.query_vectors.hits) == (1, 1)
    store.close()
    cache = QueryVectors(size=2)
    for text in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" arrives
        cache.get("m", text, lambda t: t.upper())
    assert len(cache) == 2 and (cache.misses, cache.hits) == (3, 1)
    assert cache.get("m", "b", lambda t: "again") == "again"


def test_similar_papers_fuse_vector_neighbours_with_bm25_over_the_paper(tmp_path, monkeypatch):
    from paperboy.search import engine as engine_module
    from paperboy.search.query import prose_query
    from paperboy.search.updater import paper_text

    store, settings = make_store(tmp_path)
    engine = open_search(store, settings)
    paper = next(p for p in store.iter_papers() if len(p.abstract or "") > 400)
    by_words = [
        pid
        for pid, _ in engine.indexes.keyword.search(prose_query(paper_text(paper)), limit=11)[0]
        if pid != paper.id
    ][:10]
    monkeypatch.setattr(engine_module, "SIMILAR_KEYWORD_WEIGHT", 0.0)
    by_vectors = [h.paper.id for h in engine.similar(paper.id, 10)]
    assert paper.id not in by_vectors and by_vectors != by_words
    monkeypatch.setattr(engine_module, "SIMILAR_KEYWORD_WEIGHT", 1.0)
    engine.clear_caches()
    assert [h.paper.id for h in engine.similar(paper.id, 10)] == by_words
    monkeypatch.setattr(engine_module, "SIMILAR_KEYWORD_WEIGHT", 0.3)
    engine.clear_caches()
    fused = [h.paper.id for h in engine.similar(paper.id, 10)]
    assert fused not in (by_words, by_vectors)
    assert set(fused) & set(by_words) and set(fused) & set(by_vectors)
    store.close()


def test_similar_papers_are_cached_until_the_indexes_change(tmp_path, monkeypatch):
    from dataclasses import replace

    from paperboy.search import update_indexes

    store, settings = make_store(tmp_path)
    engine = open_search(store, settings)
    paper = next(p for p in store.iter_papers() if len(p.abstract or "") > 400)
    before = [h.paper.id for h in engine.similar(paper.id, 5)]
    with monkeypatch.context() as patch:
        patch.setattr(engine, "_similar_ranking", lambda *a: pytest.fail("not cached"))
        assert [h.paper.id for h in engine.similar(paper.id, 5)] == before
    twin = replace(paper, id="2612.00001", title=paper.title + " (extended)")
    store.upsert([twin])
    update_indexes(store, settings)
    engine.refresh(force=True)
    after = [h.paper.id for h in engine.similar(paper.id, 5)]
    assert twin.id not in before and after[0] == twin.id
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_nearest_papers_looked_up_beside_the_keyword_search_rank_the_same(
    backend, request, tmp_path, monkeypatch
):
    """Over many vectors (the bound is lowered here), the vector side runs in a thread while
    the keyword index ranks (tantivy, or PostgreSQL on another pooled connection): the same
    rankings, hits and totals as one after the other."""
    from paperboy.search import engine as engine_module
    from paperboy.search.query import parse_query

    url = ""
    if backend == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
    store, settings = make_store(tmp_path, database_url=url)
    engine = open_search(store, settings)
    assert engine.indexes.searches_at_once
    queries = [
        "graph neural networks for molecules",
        "diffusion models -survey",
        '"language model" reasoning',
        "cat:cs.CV segmentation",
        "zzzzqx unmatched words",
    ]
    monkeypatch.setattr(engine_module, "SEARCH_AT_ONCE_FROM", 10**9)
    one_after_the_other = {text: engine.rank(parse_query(text)) for text in queries}
    pages = {text: engine.search(text).hits for text in queries}
    assert engine._threads is None
    monkeypatch.setattr(engine_module, "SEARCH_AT_ONCE_FROM", 1)
    for text in queries:
        beside = engine.rank(parse_query(text))
        before = one_after_the_other[text]
        assert beside.ranked == before.ranked and beside.total == before.total, text
        assert beside.semantic_top == before.semantic_top, text
        assert [h.paper.id for h in engine.search(text).hits] == [h.paper.id for h in pages[text]]
    assert engine._threads is not None  # the thread was used
    assert any(one_after_the_other[text].semantic_top for text in queries)
    store.close()
    if url:
        server.drop_database(url)
