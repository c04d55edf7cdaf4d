"""Combine the keyword and the semantic ranking into one: pure functions, no I/O.

    fused = fuse_scores(keyword_hits, semantic_scores, keyword_weight=0.3)

`fuse_scores` is a weighted sum of per-query min-max normalised scores (a "convex
combination"); `reciprocal_rank_fusion` is the parameter-free alternative. On the SciFact
development split the tuned weighted sum beat RRF (bench/search_quality.py, docs/benchmarks.md).
"""

from __future__ import annotations

KEYWORD_WEIGHT = 0.4  # tuned on the SciFact development split; semantic gets 1 - this
RRF_K = 60


def min_max(scores: dict[str, float]) -> dict[str, float]:
    """Scale to [0, 1] within this query's candidates (all equal: all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return {pid: 1.0 for pid in scores}
    return {pid: (s - low) / (high - low) for pid, s in scores.items()}


def fuse_scores(keyword: dict[str, float], semantic: dict[str, float],
                keyword_weight: float = KEYWORD_WEIGHT) -> list[tuple[str, float]]:
    """Weighted sum of normalised scores over the union of candidates, best first.

    A paper missing from one side scores 0 there (it ranked below that side's cut-off).
    """
    kw, sem = min_max(keyword), min_max(semantic)
    union = set(kw) | set(sem)
    fused = {pid: keyword_weight * kw.get(pid, 0.0) + (1 - keyword_weight) * sem.get(pid, 0.0)
             for pid in union}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def reciprocal_rank_fusion(*rankings: list[str], k: int = RRF_K) -> list[tuple[str, float]]:
    """Sum of 1 / (k + rank) over the rankings a paper appears in, best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

