"""Cheaper ways to get a paper's passage vectors, tried against the index's own
(`OnnxEncoder.encode_with_passages`: a run for the paper and one for each sentence), for
bench/encode_speed.py (speed) and bench/encode_quality.py (search quality). Not used by
paperboy itself; docs/benchmarks.md says what each costs and gives.

- `one_run`: the paper's run only; each sentence's vector is the mean of its own tokens'
  states in that run (contextual: the tokens saw the whole abstract). Sentences that reach past
  the run's 256 tokens still get a run of their own.
- `batched`: the index's runs, but the sentence runs `size` at a time (padded to the longest).
  The int8 graph quantizes activations per run, so a sentence's vector then depends on the
  sentences beside it.

Each returns what `encode_with_passages` does: (paper vectors, passage vectors, the index of
each passage's paper), a paper of one sentence without passages.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from paperboy.search.encoders import OnnxEncoder, _normalise, passages
from paperboy.search.updater import MAX_PASSAGES


def _states(encoder: OnnxEncoder, ids: list[int]) -> np.ndarray:
    """The token states of one tokenised text (one run, no padding)."""
    row = np.asarray([ids], dtype=np.int64)
    feed = {"input_ids": row, "attention_mask": np.ones_like(row)}
    if "token_type_ids" in encoder._inputs:
        feed["token_type_ids"] = np.zeros_like(row)
    states: np.ndarray = encoder.session.run(None, feed)[0][0]
    return states


def one_run(encoder: OnnxEncoder, texts: list[str], max_passages: int = MAX_PASSAGES):
    def read(text: str) -> tuple[np.ndarray, list[np.ndarray | None], list[str]]:
        text = " ".join((text or "").split())
        encoding = encoder.tokenizer.encode(text)  # cut at the encoder's 256 tokens
        states = _states(encoder, encoding.ids)
        sentences = passages(text, max_passages)
        if len(sentences) < 2:
            return states.mean(axis=0), [], []
        offsets, last = encoding.offsets, len(encoding.ids) - 1  # [SEP] is the last token
        covered_to = offsets[last - 1][1] if last > 1 else 0
        pooled: list[np.ndarray | None] = []
        alone: list[str] = []
        start = 0
        for sentence in sentences:
            start = text.find(sentence, start)
            end = start + len(sentence)
            tokens = [
                t
                for t in range(1, last)
                if offsets[t][0] >= start and offsets[t][0] < offsets[t][1] <= end
            ]
            if tokens and end <= covered_to:
                pooled.append(states[tokens].mean(axis=0))
            else:
                pooled.append(None)  # past the run's end: a run of its own
                alone.append(sentence)
            start = end
        return states.mean(axis=0), pooled, alone

    with ThreadPoolExecutor(encoder.workers) as pool:
        read_texts = list(pool.map(read, texts))
    alone_texts = [s for _, _, alone in read_texts for s in alone]
    alone_vectors = iter(encoder.mean_pooled(alone_texts)) if alone_texts else iter(())
    found: list[np.ndarray] = []
    owners: list[int] = []
    for i, (_, pooled, _) in enumerate(read_texts):
        for vector in pooled:
            found.append(next(alone_vectors) if vector is None else vector)
            owners.append(i)
    papers = _normalise(np.stack([paper for paper, _, _ in read_texts]))
    passage_vectors = _normalise(np.stack(found)) if found else np.zeros((0, encoder.dim))
    return papers, passage_vectors, np.asarray(owners, dtype=np.int64)


def batched(encoder: OnnxEncoder, texts: list[str], size: int, max_passages: int = MAX_PASSAGES):
    papers = encoder.encode(texts)
    found, owners = encoder._passages(texts, max_passages)
    several = np.bincount(owners, minlength=len(texts))[owners] > 1
    kept = [p for p, keep in zip(found, several) if keep]
    one_at_a_time = encoder.batch_size
    encoder.batch_size = size
    try:
        passage_vectors = _normalise(encoder._pooled(kept)) if kept else np.zeros((0, encoder.dim))
    finally:
        encoder.batch_size = one_at_a_time
    return papers, passage_vectors, owners[several]
