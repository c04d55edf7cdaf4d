"""The "For you" ranking (paperboy/foryou.py) on a tiny fixture whose right answer is known:
two topics on orthogonal axes, a user whose seeds are all on one of them."""

from __future__ import annotations

import numpy as np

from paperboy.foryou import Profile, rank_for_user, reason

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
