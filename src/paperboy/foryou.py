""" "For you": one user's ranking of recent papers, from what they told us they like.

    profile = Profile(seeds={"2405.15738": "library", ...}, dismissed={"2406.00001"})
    picks = rank_for_user(profile, candidates, vectors_of)   # [Pick(paper_id, score, near)]

The method is a k-nearest-neighbour score over the paper vectors the search indexes already
hold: a candidate scores the mean cosine similarity of its K closest seed papers (upvoted,
saved in a collection, or in the imported library), less DISMISS_WEIGHT times its similarity
to the closest paper the user dismissed ("not interested"). The nearest seeds give the
one-line reason.

bench/for_you.py compared it with the seeds' centroid, a per-user linear SVM over vectors +
TF-IDF words (arxiv-sanity-lite's approach, scikit-learn) and upvote popularity on real
Hugging Face daily papers (docs/benchmarks.md). The SVM ranks clearly better there (Recall@10
0.27 against 0.17 for kNN and the centroid, 0.13 for popularity); it is not used yet because
it needs a TF-IDF matrix of every stored paper and a fit per profile change, kept per user
(the next step; see docs/for-you.md). kNN needs nothing but the vectors and gives a reason.

`paper_vectors` is the one place that reads vectors from the search engine, so a change in
the search package re-points one function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

K = 3  # seeds averaged per candidate (bench/for_you.py)
DISMISS_WEIGHT = 0.5
REASON_SEEDS = 2


@dataclass
class Profile:
    seeds: dict[str, str]  # paper id -> where from: "library", "saved", "upvoted"
    dismissed: set[str] = field(default_factory=set)


@dataclass
class Pick:
    paper_id: str
    score: float
    near: list[str]  # the seed papers it is closest to, closest first


Vectors = Callable[[Iterable[str]], tuple[list[str], np.ndarray]]


def paper_vectors(search) -> Vectors:
    """A function giving (ids found, unit vectors) for paper ids, from the engine's first
    vector set that has any (the transformer's, else the static model's): one model, so
    every similarity compares like with like."""
    indexes = search.indexes
    sets = [v for v in (indexes.dense, getattr(indexes, "bulk", None)) if v is not None]
    chosen = next((v for v in sets if len(v)), None)

    def lookup(ids: Iterable[str]) -> tuple[list[str], np.ndarray]:
        found, rows = [], []
        for pid in ids if chosen is not None else ():
            vec = chosen.vector(pid)
            if vec is not None:
                found.append(pid)
                rows.append(vec)
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return found, unit_rows(np.vstack(rows))

    return lookup


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def knn_scores(
    seeds: np.ndarray, candidates: np.ndarray, k: int = K
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's mean similarity to its k nearest seeds, and its nearest seeds (at
    least REASON_SEEDS of them, nearest first). Rows are unit vectors."""
    sims = candidates @ seeds.T  # (candidates, seeds)
    k = max(1, min(k, seeds.shape[0]))
    keep = max(k, REASON_SEEDS)
    if keep < seeds.shape[0]:  # a partial sort: a full one per row was most of the time
        nearest = np.argpartition(-sims, keep - 1, axis=1)[:, :keep]
    else:
        nearest = np.broadcast_to(np.arange(seeds.shape[0]), sims.shape)
    near_sims = np.take_along_axis(sims, nearest, axis=1)
    order = np.take_along_axis(nearest, np.argsort(-near_sims, axis=1, kind="stable"), axis=1)
    top = np.take_along_axis(sims, order[:, :k], axis=1)
    return top.mean(axis=1), order


def rank_for_user(
    profile: Profile, candidates: list[str], vectors: Vectors, limit: int = 30
) -> list[Pick]:
    """The candidates ranked for this profile, best first; seeds and dismissed papers left
    out. Empty when the profile has no seed with a vector (the caller falls back)."""
    seed_ids, seed_vecs = vectors(profile.seeds)
    if not seed_ids:
        return []
    pool = [c for c in candidates if c not in profile.seeds and c not in profile.dismissed]
    cand_ids, cand_vecs = vectors(pool)
    if not cand_ids:
        return []
    scores, order = knn_scores(seed_vecs, cand_vecs)
    gone_ids, gone_vecs = vectors(sorted(profile.dismissed))
    if gone_ids:
        scores = scores - DISMISS_WEIGHT * np.maximum((cand_vecs @ gone_vecs.T).max(axis=1), 0)
    best = np.argsort(-scores, kind="stable")[:limit]
    return [
        Pick(cand_ids[i], float(scores[i]), [seed_ids[j] for j in order[i, :REASON_SEEDS]])
        for i in best
    ]


def reason(pick: Pick, seeds: dict[str, str], titles: dict[str, str]) -> str:
    """ "close to X and Y in your library" (or "you saved", "you upvoted")."""
    names = [f"“{titles.get(pid, pid)}”" for pid in pick.near]
    where = {
        "library": "in your library",
        "saved": "that you saved",
        "upvoted": "that you upvoted",
    }[seeds[pick.near[0]]]
    return f"close to {' and '.join(names)} {where}"


WINDOWS = {"today": 1, "week": 7}


def window_days(store, window: str):
    """(first, last) feed days of a window ending on the newest day with papers."""
    last = store.latest_day()
    if last is None:
        return None
    return last - timedelta(days=WINDOWS.get(window, 7) - 1), last


def recommend(store, search, user_id: int, window: str = "week", limit: int = 30):
    """(paper, reason) pairs for this user in the window, best first; None when the user has
    no history to rank by (no seed paper with a vector), so the caller shows trending."""
    from paperboy.store.library import Library

    days = window_days(store, window)
    lib = Library(store)
    profile = Profile(lib.seeds(user_id), lib.dismissed(user_id))
    if days is None or not profile.seeds:
        return None
    candidates = [p.id for p in store.papers_between(*days)]
    vectors = paper_vectors(search)
    if not vectors(profile.seeds)[0]:
        return None
    picks = rank_for_user(profile, candidates, vectors, limit)
    papers = store.get_many([p.paper_id for p in picks] + [s for p in picks for s in p.near])
    titles = {pid: paper.title for pid, paper in papers.items()}
    return [
        (papers[p.paper_id], reason(p, profile.seeds, titles))
        for p in picks
        if p.paper_id in papers
    ]
