"""Fusion: pure functions over score dictionaries."""

from paperboy.search import open_search
from paperboy.search.fusion import (
    KEYWORD_WEIGHT,
    LONG_QUERY_KEYWORD_WEIGHTS,
    LONG_QUERY_WORDS,
    RANKING_LONG_QUERY_KEYWORD_WEIGHTS,
    TUNED_KEYWORD_WEIGHTS,
    fuse_scores,
    keyword_weight_for,
    min_max,
    query_words,
    reciprocal_rank_fusion,
)
from paperboy.search.query import parse_query
from tests.search_helpers import make_store


def test_min_max_scales_to_unit_range():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 5.0, "b": 5.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_fuse_weights_the_two_sides():
    keyword = {"a": 10.0, "b": 0.0}
    semantic = {"a": 0.0, "b": 1.0}
    assert fuse_scores(keyword, semantic, keyword_weight=0.7)[0][0] == "a"
    assert fuse_scores(keyword, semantic, keyword_weight=0.3)[0][0] == "b"


def test_fuse_keeps_papers_found_by_one_side_only():
    fused = dict(fuse_scores({"a": 3.0, "b": 1.0}, {"c": 0.9, "a": 0.1}, 0.5))
    assert set(fused) == {"a", "b", "c"}
    assert fused["b"] == 0.0  # lowest keyword score, no semantic score


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion(["a", "b", "c"], ["b", "a", "d"])
    assert [pid for pid, _ in fused][:2] == ["a", "b"]  # a tie, broken by id
    assert dict(fused)["d"] < dict(fused)["b"]


def test_each_paper_can_carry_its_own_keyword_weight():
    keyword = {"a": 10.0, "b": 0.0}
    semantic = {"a": 0.0, "b": 1.0}
    assert fuse_scores(keyword, semantic, 0.7, weights={"b": 0.1})[0][0] == "b"


def test_the_weight_is_chosen_per_model_unless_a_number_is_set(monkeypatch):
    monkeypatch.setitem(TUNED_KEYWORD_WEIGHTS, "static", 0.25)
    assert keyword_weight_for("static") == 0.25
    assert keyword_weight_for("static", "auto") == 0.25
    assert keyword_weight_for("model2vec:some/model") == KEYWORD_WEIGHT
    assert keyword_weight_for("static", "0.8") == 0.8


def test_the_engine_fuses_with_the_weight_of_the_vectors_it_ranked_with(tmp_path, monkeypatch):
    store, settings = make_store(tmp_path)  # static vectors only
    engine = open_search(store, settings)
    query = parse_query("graph neural networks for molecules")
    keyword = [pid for pid, _ in engine.rank(query, mode="keyword").ranked[:10]]
    semantic = [pid for pid, _ in engine.rank(query, mode="semantic").ranked[:10]]
    assert keyword != semantic
    monkeypatch.setitem(TUNED_KEYWORD_WEIGHTS, "static", 1.0)
    monkeypatch.setitem(TUNED_KEYWORD_WEIGHTS, "minilm", 0.0)
    assert [pid for pid, _ in engine.rank(query).ranked[:10]] == keyword
    monkeypatch.setitem(TUNED_KEYWORD_WEIGHTS, "static", 0.0)
    monkeypatch.setitem(TUNED_KEYWORD_WEIGHTS, "minilm", 1.0)
    assert [pid for pid, _ in engine.rank(query).ranked[:10]] == semantic
    engine.settings = settings._with({"search_keyword_weight": "1"})  # a number wins
    assert [pid for pid, _ in engine.rank(query).ranked[:10]] == keyword
    store.close()


def test_a_long_query_gets_the_transformer_a_larger_share():
    short, long = LONG_QUERY_WORDS - 1, LONG_QUERY_WORDS
    assert keyword_weight_for("minilm", words=short) == TUNED_KEYWORD_WEIGHTS["minilm"]
    assert keyword_weight_for("minilm", words=long) == LONG_QUERY_KEYWORD_WEIGHTS["minilm"]
    assert LONG_QUERY_KEYWORD_WEIGHTS["minilm"] < TUNED_KEYWORD_WEIGHTS["minilm"]
    # The static model showed no such trend: one weight at every length.
    assert keyword_weight_for("static", words=short) == keyword_weight_for("static", words=40)
    assert keyword_weight_for("minilm", "0.8", words=long) == 0.8  # a number wins
    # PostgreSQL's keyword ranking is weaker than BM25: long queries lean less on it.
    ts_rank = RANKING_LONG_QUERY_KEYWORD_WEIGHTS["ts_rank"]["minilm"]
    assert keyword_weight_for("minilm", words=long, ranking="ts_rank") == ts_rank
    assert keyword_weight_for("minilm", "0.8", words=long, ranking="ts_rank") == 0.8
    assert ts_rank < LONG_QUERY_KEYWORD_WEIGHTS["minilm"]
    assert keyword_weight_for("minilm", words=short, ranking="ts_rank") == keyword_weight_for(
        "minilm", words=short
    )
    assert query_words("  state-space   models ") == 2
    assert query_words("RNA - DNA & co") == 3  # a lone sign is not a word


def test_the_engine_picks_the_weight_by_the_query_length(tmp_path, monkeypatch):
    store, settings = make_store(tmp_path)  # static vectors only
    engine = open_search(store, settings)
    long = parse_query("graph neural networks for molecules")
    assert query_words(long.text) >= LONG_QUERY_WORDS
    keyword = [pid for pid, _ in engine.rank(long, mode="keyword").ranked[:10]]
    semantic = [pid for pid, _ in engine.rank(long, mode="semantic").ranked[:10]]
    assert keyword != semantic
    monkeypatch.setitem(TUNED_KEYWORD_WEIGHTS, "static", 0.0)
    monkeypatch.setitem(LONG_QUERY_KEYWORD_WEIGHTS, "static", 1.0)
    assert [pid for pid, _ in engine.rank(long).ranked[:10]] == keyword
    monkeypatch.setattr("paperboy.search.fusion.LONG_QUERY_WORDS", 99)  # now a short query
    assert [pid for pid, _ in engine.rank(long).ranked[:10]] == semantic
    store.close()


def test_the_engine_picks_the_weight_of_its_keyword_ranking(tmp_path, monkeypatch):
    store, settings = make_store(tmp_path)  # static vectors only, index files (BM25)
    engine = open_search(store, settings)
    assert engine.indexes.keyword_ranking == "bm25"
    long = parse_query("graph neural networks for molecules")
    keyword = [pid for pid, _ in engine.rank(long, mode="keyword").ranked[:10]]
    semantic = [pid for pid, _ in engine.rank(long, mode="semantic").ranked[:10]]
    assert keyword != semantic
    monkeypatch.setitem(LONG_QUERY_KEYWORD_WEIGHTS, "static", 1.0)
    monkeypatch.setitem(RANKING_LONG_QUERY_KEYWORD_WEIGHTS, "other", {"static": 0.0})
    assert [pid for pid, _ in engine.rank(long).ranked[:10]] == keyword
    monkeypatch.setattr(engine.indexes, "keyword_ranking", "other")
    assert [pid for pid, _ in engine.rank(long).ranked[:10]] == semantic
    store.close()


def test_a_keyword_ranking_overrides_only_the_models_it_names(monkeypatch):
    long = LONG_QUERY_WORDS
    monkeypatch.setitem(LONG_QUERY_KEYWORD_WEIGHTS, "static", 0.9)  # not named for ts_rank
    assert "static" not in RANKING_LONG_QUERY_KEYWORD_WEIGHTS["ts_rank"]
    assert keyword_weight_for("static", words=long, ranking="ts_rank") == 0.9
    assert keyword_weight_for("static", words=long, ranking="unknown") == 0.9
