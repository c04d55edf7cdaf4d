"""Combine the keyword and the semantic ranking into one: pure functions, no I/O.

    fused = fuse_scores(keyword_hits, semantic_scores, keyword_weight=0.3)
    weight = keyword_weight_for("minilm", words=12)   # the weight tuned for that model and length

`fuse_scores` is a weighted sum of per-query min-max normalised scores (a "convex
combination"); `reciprocal_rank_fusion` is the parameter-free alternative. On the SciFact
development split the tuned weighted sum beat RRF (bench/search_quality.py, docs/benchmarks.md).

The weight depends on the vectors: a strong transformer earns a large semantic share, a static
table a small one, or hybrid would rank below keyword search alone. `TUNED_KEYWORD_WEIGHTS`
holds the weight chosen for each bundled model on SciFact train (bench/search_quality.py
--sweep); other models get `KEYWORD_WEIGHT`. A number in the `search_keyword_weight` setting
overrides them all.

The weight also depends on the query's length, for the transformer: a query of a few words
("diffusion transformers") is what BM25 reads best, a sentence (a claim, a question, a pasted
title) is what the transformer reads best. From `LONG_QUERY_WORDS` words on, a model in
`LONG_QUERY_KEYWORD_WEIGHTS` gets that weight instead. Measured by query length within each
of the two sets in bench/search_quality.py (docs/search.md, "Fusion"); the static model showed
no such trend and has one weight. A keyword ranking weaker than BM25 (PostgreSQL's) has
long-query weights of its own, `RANKING_LONG_QUERY_KEYWORD_WEIGHTS`.
"""

from __future__ import annotations

KEYWORD_WEIGHT = 0.4  # for models not tuned here; semantic gets 1 - this
TUNED_KEYWORD_WEIGHTS = {"minilm": 0.4, "static": 0.7}
LONG_QUERY_WORDS = 4  # a query of this many words or more reads as a sentence
LONG_QUERY_KEYWORD_WEIGHTS = {"minilm": 0.3}
# Overrides for another keyword ranking than BM25 (what an index set's `keyword_ranking` says).
# PostgreSQL's idf x ts_rank is weaker than BM25 and earns less weight on long queries: on
# SciFact train its hybrid peaks at 0.24-0.26 (0.750) and gives 0.746 at 0.3, where BM25's is
# flat from 0.22 to 0.4 (bench/search_backends.py --sweep).
RANKING_LONG_QUERY_KEYWORD_WEIGHTS = {"ts_rank": {"minilm": 0.25}}
RRF_K = 60


def keyword_weight_for(
    model: str, setting: str = "auto", words: int = 0, ranking: str = "bm25"
) -> float:
    """The keyword share of the fused score for papers ranked with `model`'s vectors, for a
    query of `words` words whose keyword side is ranked by `ranking` ("bm25", "ts_rank");
    `setting` is search_keyword_weight ("auto", or a number that overrides every model and
    length)."""
    if setting and str(setting).strip().lower() != "auto":
        return float(setting)
    if words >= LONG_QUERY_WORDS:
        for weights in (
            RANKING_LONG_QUERY_KEYWORD_WEIGHTS.get(ranking, {}),
            LONG_QUERY_KEYWORD_WEIGHTS,
        ):
            if model in weights:
                return weights[model]
    return TUNED_KEYWORD_WEIGHTS.get(model, KEYWORD_WEIGHT)


def query_words(text: str) -> int:
    """The number of words in a query's free text, as `keyword_weight_for` counts them: runs
    between spaces that hold a letter or a digit (a lone "-" or "&" is not a word)."""
    return sum(1 for part in text.split() if any(c.isalnum() for c in part))


def min_max(scores: dict[str, float]) -> dict[str, float]:
    """Scale to [0, 1] within this query's candidates (all equal: all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {pid: (s - low) / (high - low) for pid, s in scores.items()}


def fuse_scores(
    keyword: dict[str, float],
    semantic: dict[str, float],
    keyword_weight: float = KEYWORD_WEIGHT,
    weights: dict[str, float] | None = None,
) -> list[tuple[str, float]]:
    """Weighted sum of normalised scores over the union of candidates, best first.

    A paper missing from one side scores 0 there (it ranked below that side's cut-off).
    `weights` gives some papers a keyword weight of their own (those ranked with another
    model's vectors); the rest get `keyword_weight`.
    """
    kw, sem = min_max(keyword), min_max(semantic)
    union = set(kw) | set(sem)
    weights = weights or {}
    fused = {}
    for pid in union:
        w = weights.get(pid, keyword_weight)
        fused[pid] = w * kw.get(pid, 0.0) + (1 - w) * sem.get(pid, 0.0)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def reciprocal_rank_fusion(*rankings: list[str], k: int = RRF_K) -> list[tuple[str, float]]:
    """Sum of 1 / (k + rank) over the rankings a paper appears in, best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
