"""The "For you" ranking (paperboy/foryou.py) on a tiny fixture whose right answer is known:
two topics on orthogonal axes, a user whose seeds are all on one of them."""

from __future__ import annotations

import numpy as np

from paperboy.foryou import (
    MIN_BACKGROUND,
    MIN_SEEDS,
    Profile,
    knn_scores,
    make_background,
    rank_by_model,
    rank_for_user,
    reason,
    unit_rows,
)

# Unit vectors in 3-d: "vision" papers near x, "audio" papers near y, one in between.
VECS = {
    "seed-v1": [1.0, 0.05, 0.0],
    "seed-v2": [0.95, 0.0, 0.1],
    "new-vision": [0.9, 0.1, 0.1],
    "new-audio": [0.05, 1.0, 0.0],
    "new-mixed": [0.6, 0.6, 0.2],
    "new-other": [0.0, 0.1, 1.0],
    "near-dismissed": [0.85, 0.0, 0.5],
    "dismissed": [0.8, 0.0, 0.6],
}


def vectors(ids):
    found = [pid for pid in ids if pid in VECS]
    if not found:
        return [], np.zeros((0, 0), dtype=np.float32)
    m = np.array([VECS[p] for p in found], dtype=np.float32)
    return found, m / np.linalg.norm(m, axis=1, keepdims=True)


CANDIDATES = ["new-audio", "new-other", "new-mixed", "new-vision", "seed-v1"]


def test_the_papers_of_the_users_topic_come_first_and_seeds_are_left_out():
    profile = Profile({"seed-v1": "library", "seed-v2": "saved"})
    picks = rank_for_user(profile, CANDIDATES, vectors)
    assert [p.paper_id for p in picks] == ["new-vision", "new-mixed", "new-audio", "new-other"]
    assert picks[0].near == ["seed-v2", "seed-v1"]  # cosines 0.994 and 0.993
    titles = {"seed-v1": "ViT", "seed-v2": "DINO"}
    assert reason(picks[0], profile.seeds, titles) == "close to “DINO” and “ViT” that you saved"
    assert reason(picks[2], profile.seeds, titles).endswith("in your library")  # seed-v1 first


def test_a_dismissal_pushes_down_what_is_close_to_it():
    seeds = {"seed-v1": "upvoted"}
    before = rank_for_user(Profile(seeds), ["near-dismissed", "new-mixed"], vectors)
    after = rank_for_user(Profile(seeds, {"dismissed"}), ["near-dismissed", "new-mixed"], vectors)
    assert [p.paper_id for p in before] == ["near-dismissed", "new-mixed"]
    assert [p.paper_id for p in after] == ["new-mixed", "near-dismissed"]


def test_no_seed_with_a_vector_gives_nothing_so_the_caller_falls_back():
    assert rank_for_user(Profile({"unknown": "library"}), CANDIDATES, vectors) == []
    assert rank_for_user(Profile({}), CANDIDATES, vectors) == []


# -- the linear model (the shipped ranking) ----------------------------------------------------
# Random vectors carry no topic here, so only the words can tell: the model must read them.
TOPICS = [
    "diffusion image generation denoising pixels",
    "speech recognition audio transcription acoustic",
    "reinforcement learning robot control policy",
    "language model pretraining tokens corpus",
]
RNG = np.random.default_rng(5)
MODEL_TEXTS = {f"seed{i}": f"graph neural networks message passing molecules {i}" for i in range(6)}
MODEL_TEXTS |= {f"bg{i}": f"{TOPICS[i % 4]} study {i}" for i in range(80)}
MODEL_TEXTS |= {
    "cand-graph": "message passing graph neural networks for proteins",
    "cand-image": "diffusion image generation at scale",
    "cand-speech": "speech recognition for low-resource audio",
    "cand-gone-like": "graph neural networks message passing for weather maps",
}
MODEL_VECS = {pid: RNG.standard_normal(16) for pid in MODEL_TEXTS}
MODEL_CANDIDATES = ["cand-image", "cand-speech", "cand-graph"]


def model_vectors(ids):
    found = [pid for pid in ids if pid in MODEL_VECS]
    if not found:
        return [], np.zeros((0, 0), dtype=np.float32)
    return found, unit_rows(np.array([MODEL_VECS[p] for p in found]))


def model_background(n=80):
    texts = {f"bg{i}": MODEL_TEXTS[f"bg{i}"] for i in range(n)}
    return make_background(("test", n), texts, model_vectors)


def test_the_linear_model_ranks_by_what_the_seeds_are_about():
    seeds = {f"seed{i}": "library" for i in range(6)}
    picks = rank_by_model(
        Profile(seeds), MODEL_CANDIDATES, model_vectors, MODEL_TEXTS, model_background()
    )
    assert picks[0].paper_id == "cand-graph"
    # the reason still names the nearest seeds by vector
    _, order = knn_scores(model_vectors(seeds)[1], model_vectors(["cand-graph"])[1])
    assert picks[0].near == [f"seed{j}" for j in order[0, :2]]


def test_the_linear_model_learns_from_a_dismissal():
    """Seeds along axis 0; two candidates as close to them, one on each side of axis 1; a
    dismissed paper on axis 1's positive side. Same words everywhere: only vectors tell."""
    rng = np.random.default_rng(11)
    axes = np.eye(8)
    vecs = {f"bg{i}": rng.standard_normal(8) for i in range(80)}
    vecs |= {f"seed{i}": 3 * axes[0] + 0.3 * rng.standard_normal(8) for i in range(6)}
    vecs |= {"cand-up": 3 * axes[0] + 2 * axes[1], "cand-down": 3 * axes[0] - 2 * axes[1]}
    vecs |= {"gone": 3 * axes[0] + 3 * axes[1], "cand-far": -3 * axes[0]}
    texts = {pid: MODEL_TEXTS.get(pid, "graph study") for pid in vecs}

    def lookup(ids):
        found = [pid for pid in ids if pid in vecs]
        return found, unit_rows(np.array([vecs[p] for p in found]).reshape(len(found), 8))

    back = make_background(("dismissal",), {f"bg{i}": texts[f"bg{i}"] for i in range(80)}, lookup)
    seeds = {f"seed{i}": "saved" for i in range(6)}
    pool = ["cand-far", "cand-up", "cand-down", "gone"]
    before = {p.paper_id: p.score for p in rank_by_model(Profile(seeds), pool, lookup, texts, back)}
    after = rank_by_model(Profile(seeds, {"gone"}), pool, lookup, texts, back)
    assert min(before, key=before.get) == "cand-far" and set(before) == set(pool)
    assert [p.paper_id for p in after] == ["cand-down", "cand-up", "cand-far"]  # gone: left out
    gap = {p.paper_id: p.score for p in after}
    assert gap["cand-down"] - gap["cand-up"] > 2 * abs(before["cand-down"] - before["cand-up"])


def test_too_few_seeds_or_too_small_a_background_falls_back_to_knn():
    few = Profile({f"seed{i}": "library" for i in range(MIN_SEEDS - 1)})
    knn = rank_for_user(few, MODEL_CANDIDATES, model_vectors)
    got = rank_by_model(few, MODEL_CANDIDATES, model_vectors, MODEL_TEXTS, model_background())
    assert got == knn
    enough = Profile({f"seed{i}": "library" for i in range(6)})
    small = model_background(MIN_BACKGROUND - 1)
    assert small.words is None
    got = rank_by_model(enough, MODEL_CANDIDATES, model_vectors, MODEL_TEXTS, small)
    assert got == rank_for_user(enough, MODEL_CANDIDATES, model_vectors)


# -- through a real store and search index -------------------------------------------------------
def feed_paper(n: int, day, title: str, abstract: str):
    from paperboy.papers import FeedEntry, Paper

    return Paper(
        id=f"2608.{n:05d}",
        title=title,
        abstract=abstract,
        authors=["A. Author"],
        published=day,
        entry=FeedEntry(day, "hf"),
    )


GRAPH = "Message passing graph neural networks for {}", "Graph neural networks pass messages {}."
OTHER = [
    ("Diffusion models for {} image synthesis", "Denoising diffusion generates images of {}."),
    ("Speech recognition of {} audio", "An acoustic model transcribes {} speech."),
    ("Robot policies learned for {}", "Reinforcement learning trains robot control for {}."),
]
THINGS = ["molecules", "proteins", "traffic", "weather", "circuits", "crystals", "power grids"]


def test_recommend_ranks_a_real_store_by_the_users_fit(tmp_path, database_url):
    from datetime import date, timedelta

    from paperboy import foryou
    from paperboy.config import Settings
    from paperboy.search import open_search, update_indexes
    from paperboy.store import open_store
    from paperboy.store.library import Library

    settings = Settings.load(data_dir=tmp_path / "data", database_url=database_url)
    store = open_store(settings)
    last = date(2026, 8, 21)
    papers, n = [], 0
    for back in range(1, 31):  # 90 background papers over the month before the window
        for title, abstract in OTHER:
            thing = THINGS[back % len(THINGS)]
            day = last - timedelta(days=back + 7)  # before the week
            papers.append(feed_paper(n, day, title.format(thing), abstract.format(thing)))
            n += 1
    seeds = []
    for thing in THINGS[:6]:  # the user's library: graph papers of earlier days
        papers.append(feed_paper(n, last - timedelta(days=20), *(s.format(thing) for s in GRAPH)))
        seeds.append(papers[-1].id)
        n += 1
    window = [("Graph neural networks with message passing for meshes", "Message passing.")]
    window += [(t.format("meshes"), a.format("meshes")) for t, a in OTHER]
    for title, abstract in window:  # this week's feed: the last two days
        papers.append(feed_paper(n, last - timedelta(days=n % 2), title, abstract))
        n += 1
    store.upsert(papers)
    update_indexes(store, settings)
    user = store.create_user("ada", "h")
    Library(store).replace(user.id, [(pid, "arxiv") for pid in seeds])
    search = open_search(store, settings)
    try:
        fits = len(foryou._FITS.items)
        found = foryou.recommend(store, search, user.id, "week")
        assert len(foryou._FITS.items) == fits + 1  # the linear model, not the kNN fallback
        assert [p.title for p, _ in found][0] == window[0][0]
        assert {p.id for p, _ in found}.isdisjoint(seeds) and len(found) == len(window)
        assert all(why.startswith("close to “Message passing") for _, why in found)
        again = foryou.recommend(store, search, user.id, "week")  # cached: no second fit
        assert len(foryou._FITS.items) == fits + 1 and again == found
        # a digest run's Batch: the same picks and reasons, from its all-users products
        days = foryou.window_days(store, "week")
        batch = foryou.Batch(store, search, [user.id], {user.id: {days}})
        assert batch.picks(user.id, days) == found
        columns, scores, _ = batch._scored(days)
        assert user.id in columns and scores.shape[1] == 1  # the discriminant, not kNN
        assert batch.picks(user.id, days, limit=2) == found[:2]
        assert batch.picks(user.id + 1, days) == []  # no seeds
    finally:
        store.close()


def test_the_digest_batch_scores_as_each_users_own_fit():
    """foryou.scores_for (a digest run's every user at once) gives each user the scores of
    their own `discriminant`, dismissals included."""
    from scipy.sparse import csr_matrix, hstack

    from paperboy.foryou import discriminant, mean_of_rows, scores_for

    back = model_background()
    ids = [f"seed{i}" for i in range(6)] + ["cand-graph", "cand-gone-like", "bg3", "bg7"]
    _, vecs = model_vectors(ids)
    words = back.words.transform([MODEL_TEXTS[pid] for pid in ids]).tocsr()
    _, cand_vecs = model_vectors(MODEL_CANDIDATES)
    cand_words = back.words.transform([MODEL_TEXTS[pid] for pid in MODEL_CANDIDATES]).tocsr()
    rows = hstack([csr_matrix(cand_vecs), cand_words]).tocsr()
    users = [(1, [0, 1, 2, 3, 4, 5], []), (2, [0, 2, 4, 8, 9], [6, 7]), (3, [1, 3, 5, 8, 9], [7])]
    got = scores_for(users, vecs, words, cand_vecs, cand_words, back.discriminant)
    assert got.shape == (len(MODEL_CANDIDATES), len(users))
    for column, (_, mine, gone) in enumerate(users):
        own = discriminant(
            vecs[mine].mean(axis=0),
            mean_of_rows(words, mine),
            vecs[gone].mean(axis=0) if gone else None,
            mean_of_rows(words, gone) if gone else None,
            back.discriminant,
        )
        expected = own.decision_function(rows)
        np.testing.assert_allclose(got[:, column], expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(got[:, 0], got[:, 1])  # the users differ: the check can tell


def test_best_rows_are_each_columns_highest_first_ties_in_row_order():
    from paperboy.foryou import best_rows

    scores = np.array([[0.1, 5.0], [0.9, -np.inf], [0.5, 5.0], [0.9, 1.0]], dtype=np.float32)
    assert best_rows(scores, 3).T.tolist() == [[1, 3, 2], [0, 2, 3]]
    assert best_rows(scores, 9).T.tolist() == [[1, 3, 2, 0], [0, 2, 3, 1]]
