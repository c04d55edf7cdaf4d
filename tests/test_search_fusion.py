"""Fusion: pure functions over score dictionaries."""

from paperboy.search.fusion import fuse_scores, min_max, reciprocal_rank_fusion


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
