""" "For you": one user's ranking of recent papers, from what they told us they like.

    profile = Profile(seeds={"2405.15738": "library", ...}, dismissed={"2406.00001"})
    picks = rank_for_user(profile, candidates, vectors)        # kNN: [Pick(paper_id, score, near)]
    picks = rank_by_model(profile, candidates, vectors, texts, background)   # the linear model

Two methods, picked by the figures of bench/for_you.py (docs/benchmarks.md):
- the shipped ranking is a per-user linear model over each paper's vector beside its TF-IDF
  words (title and abstract), fitted as a linear discriminant (`discriminant`) against the
  "background", the feed of the NEGATIVE_DAYS before the window (at most MAX_BACKGROUND
  papers, the same for every user): w = Sigma^-1 (mean of the user's seeds - mean of the
  background) over the vectors, with the background's covariance Sigma made once per window,
  and the same with each word's own variance over the words; the papers the user dismissed
  ("not interested") take their direction off. It ranks as well as a per-user LinearSVC
  (arxiv-sanity-lite's; `fit_model`, kept for the benchmark's row) and fits in milliseconds,
  so a digest run fits thousands of users (`Batch`, all of them in a few matrix products);
- with fewer than MIN_SEEDS seeds that have a vector, or a background under MIN_BACKGROUND
  papers, it is a k-nearest-neighbour score: a candidate scores the mean cosine similarity of
  its K closest seeds, less DISMISS_WEIGHT times its similarity to the closest dismissed paper.
Either way the one-line reason names the two seeds nearest by vector.

What is expensive is cached in the process: per window, the background's TF-IDF vocabulary,
feature rows and covariance (shared by all users) and the candidates' rows; the TF-IDF rows of
the last WORD_ROWS seed papers; each fit, keyed by the seeds and dismissals it was made from.
A page view after the first only scores the window's candidates; one after a change of seeds
makes the new papers' rows and a mean.

`paper_vectors` is the one place that reads vectors from the search engine, so a change in
the search package re-points one function.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

K = 3  # seeds averaged per candidate (bench/for_you.py)
DISMISS_WEIGHT = 0.5
REASON_SEEDS = 2
MIN_SEEDS = 5  # fewer seeds than this: kNN (the benchmark's profiles have at least 5)
MIN_BACKGROUND = 50  # fewer background papers than this: kNN (nothing to tell seeds from)
NEGATIVE_DAYS = 60  # the background: the feed of these days before the window...
MAX_BACKGROUND = 5000  # ...newest first, at most this many papers (bench/for_you.py)
DISMISS_SAMPLE_WEIGHT = 5.0  # the SVM's (benchmark only): a dismissal as this many papers
SVM_C = 0.1  # as arxiv-sanity-lite
LDA_SHRINK = 0.1  # the background covariance, shrunk this far towards its mean variance
LDA_SMOOTH = 0.3  # each word's variance plus this times the mean word variance
WORDS_WEIGHT = 1.0  # the discriminant's words part against its vectors part
DISMISS_PUSH = 0.5  # the dismissed papers' direction, taken off this many times
WORD_ROWS = 10_000  # papers whose TF-IDF rows a background keeps for refits (~100 values each)


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


@dataclass
class Discriminant:
    """What a linear discriminant needs of the background, computed once per window and
    shared by every user: the mean and the inverse of the (shrunk) covariance of the
    background's vectors, and the mean and inverse (smoothed) variance of each TF-IDF word."""

    vec_mean: np.ndarray  # (dims,)
    vec_cov: np.ndarray  # (dims, dims), shrunk
    vec_precision: np.ndarray  # (dims, dims): (covariance + shrinkage)^-1
    word_mean: np.ndarray  # (words,)
    word_precision: np.ndarray  # (words,): 1 / (variance + smoothing)


def discriminant_of(vecs: np.ndarray, words, shrink: float = 0.0, smooth: float = 0.0):
    """The background's Discriminant from its unit vectors and TF-IDF rows (CSR)."""
    vecs = np.asarray(vecs, dtype=np.float64)
    mean = vecs.mean(axis=0)
    cov = np.cov(vecs, rowvar=False)
    shrink = shrink or LDA_SHRINK
    cov = (1 - shrink) * cov + shrink * (np.trace(cov) / cov.shape[0]) * np.eye(cov.shape[0])
    word_mean = np.asarray(words.mean(axis=0)).ravel()
    word_var = np.asarray(words.multiply(words).mean(axis=0)).ravel() - word_mean**2
    smooth = (smooth or LDA_SMOOTH) * float(word_var.mean())
    return Discriminant(
        mean, cov, np.linalg.inv(cov), word_mean, 1.0 / (np.maximum(word_var, 0) + smooth)
    )


@dataclass
class Weights:
    """A user's linear model: one weight per vector dimension, then one per TF-IDF word;
    a paper's score is its feature row times these (as LinearSVC's decision_function)."""

    coef: np.ndarray  # (dims + words,), float32

    def decision_function(self, rows) -> np.ndarray:
        return np.asarray(rows @ self.coef).ravel()


def fit_discriminant(
    seed_rows, dismissed_rows, disc: Discriminant, words_weight: float = 0.0
) -> Weights:
    """The user's linear discriminant against the shared background (see `discriminant`),
    from the feature rows of their seeds and dismissed papers."""
    dims = disc.vec_mean.size
    seeds = np.asarray(seed_rows.mean(axis=0)).ravel()
    gone = None
    if dismissed_rows is not None and dismissed_rows.shape[0]:
        gone = np.asarray(dismissed_rows.mean(axis=0)).ravel()
    return discriminant(
        seeds[:dims],
        seeds[dims:],
        None if gone is None else gone[:dims],
        None if gone is None else gone[dims:],
        disc,
        words_weight,
    )


def discriminant(seed_vec, seed_words, gone_vec, gone_words, disc: Discriminant, weight=0.0):
    """w = Sigma^-1 (mean of the seeds - mean of the background) over the vectors, the same
    with each word's own variance over the TF-IDF words (a full covariance of 20,000 words is
    out of reach), each part scaled to unit spread over the background, the words weighted
    WORDS_WEIGHT; the dismissed papers' direction (from their means) is taken off,
    DISMISS_PUSH times. Milliseconds, not a fit: no training, a mean and a product."""
    w_vec = disc.vec_precision @ (seed_vec - disc.vec_mean)
    w_words = (seed_words - disc.word_mean) * disc.word_precision
    if gone_vec is not None:
        w_vec = w_vec - DISMISS_PUSH * (disc.vec_precision @ (gone_vec - disc.vec_mean))
        w_words = w_words - DISMISS_PUSH * (gone_words - disc.word_mean) * disc.word_precision
    vec_spread = float(np.sqrt(max(w_vec @ disc.vec_cov @ w_vec, 1e-12)))
    word_spread = float(np.sqrt(max((w_words**2 / disc.word_precision).sum(), 1e-12)))
    coef = np.concatenate([w_vec / vec_spread, (weight or WORDS_WEIGHT) * w_words / word_spread])
    return Weights(coef.astype(np.float32))


def mean_of_rows(matrix, rows: list[int]) -> np.ndarray:
    """The mean of some rows of a CSR matrix, densely: straight from its arrays, as scipy's
    row slicing costs most of a millisecond a call and a digest run makes thousands."""
    rows_a = np.asarray(rows, dtype=np.int64)
    starts, ends = matrix.indptr[rows_a], matrix.indptr[rows_a + 1]
    lengths = ends - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    at = offsets + np.arange(int(lengths.sum()))
    total = np.bincount(matrix.indices[at], weights=matrix.data[at], minlength=matrix.shape[1])
    return total / max(len(rows), 1)


@dataclass
class Background:
    """The papers every user's seeds are told apart from: their ids, the TF-IDF words fitted
    over their texts, their feature rows and the discriminant's statistics."""

    ids: list[str]
    words: object  # a fitted sklearn TfidfVectorizer
    features: object  # scipy CSR matrix, one row per id
    key: tuple
    discriminant: Discriminant | None = None
    # paper id -> its TF-IDF row in these words (columns, values), for refits (`word_rows`)
    word_cache: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def word_rows(back: Background, ids: list[str], texts: Texts) -> list[tuple]:
    """Each paper's TF-IDF row in the background's words, as (columns, values); the last
    WORD_ROWS papers' are kept with the background, so a refit after one more seed or
    dismissal reads and transforms that paper only."""
    with back.lock:
        have = {pid: back.word_cache[pid] for pid in ids if pid in back.word_cache}
    missing = [pid for pid in ids if pid not in have]
    if missing:
        known = texts_of(texts, missing)
        rows = back.words.transform([known.get(pid, "") for pid in missing]).tocsr()
        made = {
            pid: (
                rows.indices[rows.indptr[i] : rows.indptr[i + 1]].copy(),
                rows.data[rows.indptr[i] : rows.indptr[i + 1]].astype(np.float32),
            )
            for i, pid in enumerate(missing)
        }
        have |= made
        with back.lock:
            back.word_cache.update(made)
            while len(back.word_cache) > WORD_ROWS:
                back.word_cache.popitem(last=False)
    return [have[pid] for pid in ids]


def mean_words(rows: list[tuple], columns: int) -> np.ndarray:
    """The mean of TF-IDF rows given as (columns, values), densely."""
    at = np.concatenate([r[0] for r in rows])
    values = np.concatenate([r[1] for r in rows]).astype(np.float64)
    return np.bincount(at, weights=values, minlength=columns) / max(len(rows), 1)


def fit_words(texts: list[str]):
    """TF-IDF over these texts (sublinear tf, English stop words, the 20,000 commonest
    words), as bench/for_you.py measured it."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(max_features=20000, stop_words="english", sublinear_tf=True)
    return words.fit(texts)


def features_for(ids: list[str], vectors: Vectors, texts: dict[str, str], words):
    """(ids that have a vector, their unit vectors, their rows: vector beside TF-IDF words)."""
    from scipy.sparse import csr_matrix, hstack

    found, vecs = vectors(ids)
    if not found:
        return [], vecs, None
    tfidf = words.transform([texts.get(pid, "") for pid in found])
    return found, vecs, hstack([csr_matrix(vecs), tfidf]).tocsr()


class _Cache:
    """A small least-recently-used map, safe across the server's worker threads."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get_or_make(self, key, make):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()  # outside the lock: two threads may both make it, both get the same
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_BACKGROUNDS = _Cache(4)
_FITS = _Cache(512)
_CANDIDATES = _Cache(8)


def fit_model(seed_rows, background_rows, dismissed_rows):
    """The user's linear SVM: seeds against the background and their dismissals."""
    from scipy.sparse import vstack
    from sklearn.svm import LinearSVC

    parts = [seed_rows, background_rows] + ([dismissed_rows] if dismissed_rows is not None else [])
    n_seed, n_back = seed_rows.shape[0], background_rows.shape[0]
    n_gone = dismissed_rows.shape[0] if dismissed_rows is not None else 0
    y = np.array([1] * n_seed + [0] * (n_back + n_gone))
    weights = np.array([1.0] * (n_seed + n_back) + [DISMISS_SAMPLE_WEIGHT] * n_gone)
    model = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=5000, tol=1e-4)
    return model.fit(vstack(parts).tocsr(), y, sample_weight=weights)


Texts = dict[str, str] | Callable[[list[str]], dict[str, str]]  # paper id -> title, abstract


def texts_of(texts: Texts, ids: list[str]) -> dict[str, str]:
    return {pid: texts.get(pid, "") for pid in ids} if isinstance(texts, dict) else texts(ids)


@dataclass
class Fit:
    """One profile's model, with its seeds' vectors for the reasons."""

    model: object  # Weights (the discriminant) or a fitted LinearSVC: decision_function(rows)
    seed_ids: list[str]
    seed_vecs: np.ndarray


def fit_profile(
    profile: Profile, vectors: Vectors, texts: Texts, back: Background, method: str = "discriminant"
):
    """The profile's Fit, or None with fewer than MIN_SEEDS seeds that have a vector.
    `method`: "discriminant" (the shipped one) or "svm" (LinearSVC, for bench/for_you.py)."""
    seed_ids, _ = vectors(profile.seeds)
    if len(seed_ids) < MIN_SEEDS:
        return None
    gone = sorted(profile.dismissed)
    if method == "discriminant" and back.discriminant is not None:
        seed_ids, seed_vecs = vectors(seed_ids)
        gone_ids, gone_vecs = vectors(gone)
        rows = word_rows(back, seed_ids + gone_ids, texts)
        columns = back.discriminant.word_mean.size
        model = discriminant(
            seed_vecs.mean(axis=0),
            mean_words(rows[: len(seed_ids)], columns),
            gone_vecs.mean(axis=0) if gone_ids else None,
            mean_words(rows[len(seed_ids) :], columns) if gone_ids else None,
            back.discriminant,
        )
        return Fit(model, seed_ids, seed_vecs)
    known = texts_of(texts, seed_ids + gone)
    seed_ids, seed_vecs, seed_rows = features_for(seed_ids, vectors, known, back.words)
    _, _, gone_rows = features_for(gone, vectors, known, back.words)
    seeds = set(seed_ids)
    keep = [i for i, pid in enumerate(back.ids) if pid not in seeds]
    return Fit(fit_model(seed_rows, back.features[keep], gone_rows), seed_ids, seed_vecs)


def rank_by_model(
    profile: Profile,
    candidates: list[str],
    vectors: Vectors,
    texts: Texts,
    back: Background,
    limit: int = 30,
    method: str = "discriminant",
) -> list[Pick]:
    """The candidates ranked by the user's linear model, best first, each with its nearest
    seeds for the reason; kNN (rank_for_user) when the profile or the background is too
    small for a fit. `texts` gives the title and abstract of seeds, dismissed papers and
    candidates (a dict, or a function of the ids). The fit is cached by the seeds and
    dismissals, the candidates' rows by the window: a repeated view only scores."""
    fit = None
    if back.words is not None and len(profile.seeds) >= MIN_SEEDS:
        key = (back.key, method, frozenset(profile.seeds), frozenset(profile.dismissed))
        fit = _FITS.get_or_make(key, lambda: fit_profile(profile, vectors, texts, back, method))
    if fit is None:
        return rank_for_user(profile, candidates, vectors, limit)
    cand_ids, cand_vecs, cand_rows = _CANDIDATES.get_or_make(
        (back.key, tuple(candidates)),
        lambda: features_for(candidates, vectors, texts_of(texts, candidates), back.words),
    )
    return score_candidates(fit, profile, cand_ids, cand_vecs, cand_rows, limit)


def score_candidates(
    fit: Fit, profile: Profile, cand_ids: list[str], cand_vecs, cand_rows, limit: int
) -> list[Pick]:
    """The candidates (with their vectors and feature rows) that are neither seeds nor
    dismissed, ranked by the fit, best first, each with its nearest seeds."""
    pool = [
        i
        for i, pid in enumerate(cand_ids)
        if pid not in profile.seeds and pid not in profile.dismissed
    ]
    if not pool:
        return []
    scores = fit.model.decision_function(cand_rows)[pool]  # all, then the pool: no slicing
    best = np.argsort(-scores, kind="stable")[:limit]
    chosen = [pool[i] for i in best]
    _, order = knn_scores(fit.seed_vecs, cand_vecs[chosen])  # reasons for the shown ones only
    return [
        Pick(cand_ids[c], float(scores[b]), [fit.seed_ids[j] for j in order[n, :REASON_SEEDS]])
        for n, (b, c) in enumerate(zip(best, chosen, strict=True))
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


def paper_text(paper) -> str:
    return f"{paper.title}\n{paper.abstract or ''}"


def background_of(store, first_window_day, vectors: Vectors) -> Background:
    """The background of a window: the feed of the NEGATIVE_DAYS before it, newest day first,
    at most MAX_BACKGROUND papers. Made once per process for a window and the papers it holds."""
    first = first_window_day - timedelta(days=NEGATIVE_DAYS)
    last = first_window_day - timedelta(days=1)
    where = getattr(store, "location", id(store))  # one process may open two stores
    key = (where, first, last, store.count_between(first, last))
    return _BACKGROUNDS.get_or_make(
        key, lambda: make_background(key, newest_texts(store, first, last), vectors)
    )


def newest_texts(store, first, last) -> dict[str, str]:
    texts: dict[str, str] = {}
    day = last
    while day >= first and len(texts) < MAX_BACKGROUND:
        for paper in store.papers_on(day):
            texts.setdefault(paper.id, paper_text(paper))
        day -= timedelta(days=1)
    return dict(list(texts.items())[:MAX_BACKGROUND])


def make_background(key: tuple, texts: dict[str, str], vectors: Vectors) -> Background:
    found, _ = vectors(list(texts))
    words = fit_words([texts[pid] for pid in found]) if len(found) >= MIN_BACKGROUND else None
    if words is None:
        return Background(found, None, None, key)
    _, vecs, rows = features_for(found, vectors, texts, words)
    return Background(found, words, rows, key, discriminant_of(vecs, rows[:, vecs.shape[1] :]))


def recommend(store, search, user_id: int, window: str = "week", limit: int = 30):
    """(paper, reason) pairs for this user in the window, best first; None when the user has
    no history to rank by (no seed paper with a vector), so the caller shows trending."""
    return recommend_between(store, search, user_id, window_days(store, window), limit)


def recommend_between(store, search, user_id: int, days, limit: int = 30):
    """As `recommend`, over the feed days (first, last) inclusive (a digest's window)."""
    from paperboy.store.library import Library

    lib = Library(store)
    profile = Profile(lib.seeds(user_id), lib.dismissed(user_id))
    if days is None or not profile.seeds:
        return None
    window_papers = store.papers_between(*days)
    vectors = paper_vectors(search)
    window_texts = {p.id: paper_text(p) for p in window_papers}

    def texts(ids: list[str]) -> dict[str, str]:  # the seeds' are read only for a new fit
        missing = [pid for pid in ids if pid not in window_texts]
        stored = {pid: paper_text(p) for pid, p in store.get_many(missing).items()}
        return {pid: window_texts.get(pid) or stored.get(pid, "") for pid in ids}

    back = background_of(store, days[0], vectors)
    picks = rank_by_model(profile, list(window_texts), vectors, texts, back, limit)
    if not picks and not vectors(profile.seeds)[0]:
        return None  # no seed has a vector: nothing to rank by
    papers = store.get_many([p.paper_id for p in picks] + [s for p in picks for s in p.near])
    titles = {pid: paper.title for pid, paper in papers.items()}
    return [
        (papers[p.paper_id], reason(p, profile.seeds, titles))
        for p in picks
        if p.paper_id in papers
    ]


class Batch:
    """ "For you" for many users at once, as a digest run needs it: their seeds and
    dismissals read in two queries, the features of every seed paper made once per window
    (one TF-IDF pass over all of them), and every user's discriminant fitted and scored over
    the window's candidates in a few matrix products per CHUNK_USERS users (`scores_for`), so
    a subscriber costs a column look-up and their reasons. The picks and reasons are those of
    `recommend_between` for each user.

        batch = Batch(store, search, user_ids)
        batch.picks(user_id, (first, last), limit)   # [(paper, reason)], [] without seeds
    """

    def __init__(self, store, search, user_ids: Iterable[int], needs: dict | None = None):
        """`needs`: user id -> the windows (first, last) they will be asked for, so that each
        window fits only its users (a daily subscriber is not fitted for the week)."""
        from paperboy.store.library import Library

        lib = Library(store)
        ids = sorted(set(user_ids))
        self.needs = needs
        self.store = store
        self.seeds = lib.seeds_of(ids)
        self.dismissed = lib.dismissed_of(ids)
        self.vectors = paper_vectors(search)
        self._papers: dict[str, object] | None = None  # every seed and dismissed paper
        self._titles: dict[str, str] = {}
        self._rows: dict[tuple, tuple[dict[str, int], np.ndarray, object]] = {}
        self._windows: dict[tuple, tuple] = {}
        self._scores: dict[tuple, tuple] = {}

    def _known(self) -> dict:
        if self._papers is None:
            wanted = {pid for seeds in self.seeds.values() for pid in seeds}
            wanted |= {pid for gone in self.dismissed.values() for pid in gone}
            self._papers = self.store.get_many(sorted(wanted))
            self._titles = {pid: p.title for pid, p in self._papers.items()}
        return self._papers

    def _window(self, days) -> tuple:
        found = self._windows.get(days)
        if found is None:
            papers = {p.id: p for p in self.store.papers_between(*days)}
            back = background_of(self.store, days[0], self.vectors)
            texts = {pid: paper_text(p) for pid, p in papers.items()}
            cand = None
            if back.words is not None:
                cand = features_for(list(texts), self.vectors, texts, back.words)
            found = self._windows[days] = (papers, back, cand)
        return found

    def _seed_rows(self, back: Background) -> tuple[dict[str, int], np.ndarray, object]:
        """Row numbers, unit vectors and TF-IDF rows of every seed and dismissed paper, in
        this background's words."""
        found = self._rows.get(back.key)
        if found is None:
            known = self._known()
            texts = {pid: paper_text(p) for pid, p in known.items()}
            ids, vecs = self.vectors(sorted(texts))
            words = back.words.transform([texts[pid] for pid in ids]).tocsr()
            found = self._rows[back.key] = ({pid: i for i, pid in enumerate(ids)}, vecs, words)
        return found

    def _scored(self, days) -> tuple:
        """(user id -> column, the candidates' scores with one column per user with a fit,
        seeds and dismissed papers at -inf, and each column's TOP_KEEP best rows, best first)."""
        found = self._scores.get(days)
        if found is None:
            _, back, cand = self._window(days)
            columns: dict[int, int] = {}
            scores = top = None
            if cand is not None and cand[0] and back.discriminant is not None:
                index, vecs, words = self._seed_rows(back)
                users = []
                for uid, seeds in self.seeds.items():
                    if self.needs is not None and days not in self.needs.get(uid, ()):
                        continue
                    mine = [index[pid] for pid in seeds if pid in index]
                    if len(seeds) >= MIN_SEEDS and len(mine) >= MIN_SEEDS:
                        gone = self.dismissed.get(uid, set())
                        users.append((uid, mine, [index[p] for p in sorted(gone) if p in index]))
                if users:
                    cand_ids, cand_vecs, cand_rows = cand
                    cand_words = cand_rows[:, vecs.shape[1] :]
                    scores = np.hstack(
                        [
                            scores_for(
                                users[at : at + CHUNK_USERS],
                                vecs,
                                words,
                                cand_vecs,
                                cand_words,
                                back.discriminant,
                            )
                            for at in range(0, len(users), CHUNK_USERS)
                        ]
                    )
                    at_cand = {pid: i for i, pid in enumerate(cand_ids)}
                    for column, (uid, _, _) in enumerate(users):
                        columns[uid] = column
                        left_out = set(self.seeds[uid]) | self.dismissed.get(uid, set())
                        rows = [at_cand[pid] for pid in left_out if pid in at_cand]
                        scores[rows, column] = -np.inf
                    top = best_rows(scores, TOP_KEEP)
            found = self._scores[days] = (columns, scores, top)
        return found

    def picks(self, user_id: int, days, limit: int = 30) -> list:
        """(paper, reason) for this user over the feed days (first, last), best first."""
        seeds = self.seeds.get(user_id)
        if not seeds:
            return []
        profile = Profile(seeds, self.dismissed.get(user_id, set()))
        papers, back, cand = self._window(days)
        if self.needs is not None and days not in self.needs.get(user_id, ()):
            self.needs.setdefault(user_id, set()).add(days)  # not foreseen: fit the window again
            self._scores.pop(days, None)
        columns, scores, top = self._scored(days)
        column = columns.get(user_id)
        if column is not None and scores is not None:
            index, vecs, _ = self._seed_rows(back)
            mine = [pid for pid in seeds if pid in index]
            seed_vecs = vecs[[index[pid] for pid in mine]]
            if top.shape[0] >= min(limit, scores.shape[0]):  # the top kept holds them all
                chosen = [int(i) for i in top[:limit, column] if scores[i, column] > -np.inf]
                _, order = knn_scores(seed_vecs, cand[1][chosen])
                picks = [
                    Pick(
                        cand[0][c],
                        float(scores[c, column]),
                        [mine[j] for j in order[n, :REASON_SEEDS]],
                    )
                    for n, c in enumerate(chosen)
                ]
            else:
                fit = Fit(Scored(scores[:, column]), mine, seed_vecs)
                picks = score_candidates(fit, profile, *cand, limit)
        else:
            picks = rank_for_user(profile, list(papers), self.vectors, limit)
        self._known()
        return [
            (papers[p.paper_id], reason(p, profile.seeds, self._titles))
            for p in picks
            if p.paper_id in papers
        ]


TOP_KEEP = 64  # best candidates kept per digest user (a digest asks for ~3x its section)


def best_rows(scores: np.ndarray, keep: int) -> np.ndarray:
    """Each column's `keep` highest rows, highest first (ties: the earlier row first)."""
    keep = min(keep, scores.shape[0])
    if keep < scores.shape[0]:
        part = np.argpartition(-scores, keep - 1, axis=0)[:keep]
    else:
        part = np.broadcast_to(np.arange(scores.shape[0])[:, None], scores.shape).copy()
    part.sort(axis=0)  # row order first, so the stable sort below keeps ties in it
    values = np.take_along_axis(scores, part, axis=0)
    return np.take_along_axis(part, np.argsort(-values, axis=0, kind="stable"), axis=0)


CHUNK_USERS = 1000  # users fitted and scored together (their mean TF-IDF rows: ~30 MB)


@dataclass
class Scored:
    """A model whose scores over the window's candidates are already known (Batch)."""

    scores: np.ndarray

    def decision_function(self, rows) -> np.ndarray:
        return self.scores


def scores_for(users, vecs, words, cand_vecs, cand_words, disc: Discriminant) -> np.ndarray:
    """`discriminant` for many users at once, and their scores over the candidates:
    (candidates x users). `users`: (user id, seed rows, dismissed rows) into `vecs` (unit
    vectors) and `words` (CSR TF-IDF rows). The same sums as `discriminant`, as products: each
    user's (seed mean - DISMISS_PUSH x dismissed mean) is one row of A @ rows, and the
    background mean enters c times (1, or 1 - DISMISS_PUSH with dismissals)."""
    from scipy.sparse import csr_matrix

    at_row, at_col, value = [], [], []
    c = np.ones(len(users))
    for r, (_, mine, gone) in enumerate(users):
        at_row += [r] * len(mine)
        at_col += mine
        value += [1.0 / len(mine)] * len(mine)
        if gone:
            at_row += [r] * len(gone)
            at_col += gone
            value += [-DISMISS_PUSH / len(gone)] * len(gone)
            c[r] = 1 - DISMISS_PUSH
    a = csr_matrix((value, (at_row, at_col)), shape=(len(users), vecs.shape[0]))
    # vectors: W = (A V - c mu) Sigma^-1, spread sqrt(w Sigma w), scores X W'
    w_vec = (a @ np.asarray(vecs, dtype=np.float64) - np.outer(c, disc.vec_mean)) @ (
        disc.vec_precision
    )
    vec_spread = np.sqrt(np.maximum(((w_vec @ disc.vec_cov) * w_vec).sum(axis=1), 1e-12))
    vec_scores = np.asarray(cand_vecs, dtype=np.float64) @ w_vec.T
    # words: w = (A T - c mu) * prec, never dense: scores = (X * prec) (A T)' - c (X * prec) mu
    mean_words = (a @ words).tocsr()
    prec, mu = disc.word_precision, disc.word_mean
    weighted = csr_matrix(cand_words.multiply(prec.reshape(1, -1)))
    word_scores = np.asarray((weighted @ mean_words.T).todense()) - np.outer(weighted @ mu, c)
    spread2 = (
        np.asarray(mean_words.multiply(mean_words) @ prec).ravel()
        - 2 * c * (mean_words @ (prec * mu))
        + c**2 * float((prec * mu * mu).sum())
    )
    word_spread = np.sqrt(np.maximum(spread2, 1e-12))
    total = vec_scores / vec_spread + WORDS_WEIGHT * word_scores / word_spread
    return total.astype(np.float32)
